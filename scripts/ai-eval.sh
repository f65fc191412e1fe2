#!/usr/bin/env bash
# Prints the AI evaluation table (issue 6): forecast WAPE against seasonal naive on held-out days,
# injected-anomaly recall and false-alarm rate, on seeded synthetic locations.
#   bash scripts/ai-eval.sh [--locations 20] [--days 120] [--holdout 14]
set -euo pipefail
cd "$(dirname "$0")/../services/ai"
exec .venv/bin/python scripts/evaluate.py "$@"
