"""Bench: model fit time per location (90 days of history) and the wall time of a daily retrain
of many locations, on this machine. Prints figures; asserts nothing. From services/ai:

    uv run --frozen python bench/retrain.py [--locations 1000] [--workers 2] [--sample 30]

"fit" is the forecast: the per-series model selection (a 4-origin rolling backtest of the
candidates, about 12 statsmodels fits) and the chosen model's 14-day forecast with intervals;
"train" is what the daily reminder runs per location: that forecast (its backtest is the
selection's), the residual model and IsolationForest + residual checks on days and hours, and the
recommendations. Locations are synthetic (lsp_ai.synthetic), seeded.
"""

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from lsp_ai import worker
from lsp_ai.forecast import predict
from lsp_ai.synthetic import generate_location, to_state

DAYS = 90


def _train(seed: int) -> float:
    state = to_state(generate_location(seed=seed % 50, days=DAYS, anomaly_from_day=20))
    started = time.perf_counter()
    worker.run("train", state, "Asia/Ho_Chi_Minh", 14)
    return time.perf_counter() - started


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--locations", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sample", type=int, default=30, help="locations timed one by one")
    args = parser.parse_args()

    locations = [generate_location(seed=s, days=DAYS, anomaly_from_day=20) for s in range(args.sample)]
    predict(locations[0].daily["revenueVnd"].astype(float), 14)  # imports and first-call costs
    fits, trains = [], []
    for loc in locations:
        started = time.perf_counter()
        predict(loc.daily["revenueVnd"].astype(float), 14)
        fits.append(time.perf_counter() - started)
        state = to_state(loc)
        started = time.perf_counter()
        worker.run("train", state, "Asia/Ho_Chi_Minh", 14)
        trains.append(time.perf_counter() - started)
    ms = lambda v: f"{1000 * v:.0f} ms"  # noqa: E731
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"fit per location ({DAYS} days), {args.sample} locations: p50 {ms(statistics.median(fits))}, "
        f"p95 {ms(_pct(fits, 0.95))}, max {ms(max(fits))}"
    )
    print(
        f"full retrain per location ({DAYS} days): p50 {ms(statistics.median(trains))}, "
        f"p95 {ms(_pct(trains, 0.95))}, max {ms(max(trains))}"
    )
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers, mp_context=get_context("spawn")) as pool:
        per_location = []
        for seconds in pool.map(_train, range(args.locations), chunksize=8):
            per_location.append(seconds)
            if len(per_location) % 100 == 0 or len(per_location) == args.locations:
                elapsed = time.perf_counter() - started
                print(f"  retrained {len(per_location)}/{args.locations} ({elapsed:.0f} s)", file=sys.stderr)
    wall = time.perf_counter() - started
    print(
        f"retrain {args.locations} locations with {args.workers} worker processes: wall {wall:.1f} s "
        f"(includes generating each location's synthetic history; train alone sums to "
        f"{sum(per_location):.1f} s of worker time)"
    )


if __name__ == "__main__":
    main()
