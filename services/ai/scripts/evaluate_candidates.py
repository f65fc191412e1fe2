"""Candidate forecasts cached per series and origin, then selection/combination rules scored on them.

`evaluate_forecasts.py` scores the service's one rule; this script asks which rule to adopt. It
fits every candidate once per (series, outer origin, inner origin) — ours from `lsp_ai.forecast`
and statsforecast's (AutoETS, AutoTheta, AutoARIMA, DynamicOptimizedTheta, damped-trend ETS, MSTL,
AutoCES; for intermittent series CrostonSBA, CrostonOptimized, TSB, ADIDA, IMAPA) — with the same
series, weekly outer origins, 14-day horizon and ≤ 182 days of history as `evaluate_forecasts.py`,
and the 4 weekly inner origins (7 days ahead, inside each outer origin's history) a backtest
selection would use. Forecasts are cached (`--cache`), so rules are scored without refitting:

    uv run --frozen --group eval python scripts/evaluate_candidates.py fit [--only real|held-out|synthetic]
    uv run --frozen --group eval python scripts/evaluate_candidates.py score

Tune on the real and synthetic groups only; the held-out groups are scored once a rule is fixed.
"""

import argparse
import os
import pickle
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from evaluate_forecasts import held_out_series, real_series, synthetic_series

from lsp_ai.forecast import (
    INTERMITTENT,
    REGULAR,
    SEASON,
    candidate_forecasts,
    clean_history,
    closed_weekdays,
    is_intermittent,
    predict,
)

H = 14
INNER = 4


def _sf_models(intermittent: bool) -> dict:
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        MSTL,
        TSB,
        AutoARIMA,
        AutoCES,
        AutoETS,
        AutoTheta,
        CrostonOptimized,
        CrostonSBA,
        DynamicOptimizedTheta,
    )

    models = {
        "sf-AutoETS": AutoETS(season_length=SEASON),
        "sf-AutoTheta": AutoTheta(season_length=SEASON),
        # A smaller search than the default (seasonal orders ≤ 1): ~3x faster, same family.
        "sf-AutoARIMA": AutoARIMA(season_length=SEASON, max_P=1, max_Q=1, approximation=True),
        "sf-DOTheta": DynamicOptimizedTheta(season_length=SEASON),
        "sf-ETS-AAdA": AutoETS(season_length=SEASON, model="AAA", damped=True),
        "sf-MSTL": MSTL(season_length=SEASON),
        "sf-AutoCES": AutoCES(season_length=SEASON),
    }
    if intermittent:
        models |= {
            "sf-CrostonSBA": CrostonSBA(),
            "sf-CrostonOpt": CrostonOptimized(),
            "sf-TSB": TSB(alpha_d=0.1, alpha_p=0.1),
            "sf-ADIDA": ADIDA(),
            "sf-IMAPA": IMAPA(),
        }
    return models


CLEANED = ("sf-AutoETS", "sf-AutoTheta", "sf-AutoARIMA", "sf-DOTheta")


SLOW = ("sf-AutoARIMA",)  # ~3 s a fit on a busy core: outer origins only, on the cleaned history


def candidates(train: pd.Series, h: int, slow: bool = True) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    intermittent = is_intermittent(train)
    out: dict[str, np.ndarray] = {}
    secs: dict[str, float] = {}
    t = time.perf_counter()
    out |= candidate_forecasts(train, h, INTERMITTENT if intermittent else REGULAR)
    secs["ours-all"] = time.perf_counter() - t
    y = train.to_numpy(dtype=float)
    clean = y if intermittent else np.clip(clean_history(train).to_numpy(dtype=float), 0, None)
    closed = closed_weekdays(train)
    off = np.zeros(h, dtype=bool)
    if closed:
        start = train.index[-1] + pd.Timedelta(days=1)
        off = np.isin(pd.date_range(start, periods=h, freq="D").day_of_week, list(closed))
    for name, model in _sf_models(intermittent).items():
        if name in SLOW and not slow:
            continue
        variants = [(name, y)] + ([(name + "-clean", clean)] if name in CLEANED and not intermittent else [])
        if name in SLOW:
            variants = variants[-1:]
        for label, data in variants:
            t = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f = np.asarray(model.forecast(y=data, h=h)["mean"], dtype=float)
                if not np.all(np.isfinite(f)):
                    raise ValueError("non-finite")
            except Exception:
                f = out["seasonal-naive"].copy()
            secs[label] = time.perf_counter() - t
            f = np.clip(f, 0, None)
            out[label] = np.where(off, 0.0, f) if label.endswith("-clean") or label in CLEANED else f
    return out, secs


def fit_series(task: tuple[str, str, pd.Series, int, int, str, int]) -> None:
    group, name, s, origins, max_history, cache, inner_origins = task
    path = Path(cache) / f"{group.replace(' ', '_').replace(':', '')}__{name.replace('/', '_')}.pkl"
    if path.exists():
        return
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    rows = []
    for k in range(origins, 0, -1):
        cut = len(s) - H - (k - 1) * SEASON
        window = s.iloc[max(0, cut - max_history) : cut]
        test = s.iloc[cut : cut + H].to_numpy(dtype=float)
        t = time.perf_counter()
        ours = predict(window, H)
        ours_secs = time.perf_counter() - t
        outer, secs = candidates(window, H)
        inner = []
        for j in range(inner_origins, 0, -1):
            icut = len(window) - j * SEASON
            if icut < 3 * SEASON:
                continue
            f, _ = candidates(window.iloc[:icut], SEASON, slow=False)
            inner.append({"actual": window.iloc[icut : icut + SEASON].to_numpy(dtype=float), "forecasts": f})
        rows.append(
            {
                "actual": test,
                "train": window.to_numpy(dtype=float),
                "ours": np.asarray(ours["mean"]),
                "ours_method": ours["method"],
                "ours_secs": ours_secs,
                "forecasts": outer,
                "secs": secs,
                "inner": inner,
                "intermittent": is_intermittent(window),
            }
        )
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps({"group": group, "name": name, "rows": rows}))
    tmp.rename(path)
    print(f"{group} / {name}: done", flush=True)


def groups_for(only: str | None) -> dict[str, list[tuple[str, pd.Series]]]:
    groups: dict[str, list[tuple[str, pd.Series]]] = {}
    if only in (None, "real"):
        real = real_series()
        groups["real bikes"] = [x for x in real if x[0].startswith("bikes")]
        groups["real wiki"] = [x for x in real if x[0].startswith("wiki")]
    if only in (None, "synthetic"):
        for g, xs in synthetic_series(6, 1000, 150).items():
            groups[g.replace(",", "")] = xs
    if only in (None, "held-out"):
        held = held_out_series()
        groups["held expedia-taylor"] = [x for x in held if x[0].startswith(("expedia", "taylor"))]
        groups["held m4"] = [x for x in held if x[0].startswith("m4")]
        groups["held bikeshop"] = [x for x in held if x[0].startswith("bike-")]
    return groups


DEFAULT_RULES = [
    "ours",
    "seasonal-naive",
    "sf-AutoETS",
    "sf-AutoTheta",
    "sf-AutoARIMA-clean",
    "sf-DOTheta",
    "ets-theta-mean",
    "median:sf-AutoETS+sf-AutoCES+sf-AutoARIMA-clean+sf-DOTheta",
    "mean:sf-AutoETS+sf-AutoTheta+sf-AutoARIMA-clean",
    "mean:ets-AAdA-log+ets-ANA-log+theta+sf-AutoARIMA-clean",
]


def load(cache: str) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for path in sorted(Path(cache).glob("*.pkl")):
        data = pickle.loads(path.read_bytes())
        groups.setdefault(data["group"], []).append(data)
    return groups


def forecast_of(row: dict, rule: str) -> np.ndarray:
    """A rule: one candidate, "ours", or "mean:a+b+c" / "median:a+b+c" of candidates."""
    if rule == "ours":
        return row["ours"]
    f = row["forecasts"]
    if ":" in rule:
        how, names = rule.split(":", 1)
        parts = [f[n] for n in names.split("+") if n in f]
        if not parts:
            return f["seasonal-naive"]
        return np.mean(parts, axis=0) if how == "mean" else np.median(parts, axis=0)
    return f.get(rule, f["seasonal-naive"])


def score_group(series: list[dict], rule: str, h: int) -> tuple[float, float]:
    """Mean over series of WAPE pooled over origins, and the bias (Σf ÷ Σy - 1)."""
    wapes, fsum, ysum = [], 0.0, 0.0
    for one in series:
        y = np.concatenate([r["actual"][:h] for r in one["rows"]])
        f = np.concatenate([forecast_of(r, rule)[:h] for r in one["rows"]])
        wapes.append(float(np.abs(y - f).sum() / y.sum()) if y.sum() else np.nan)
        fsum, ysum = fsum + float(f.sum()), ysum + float(y.sum())
    return float(np.nanmean(wapes)), fsum / ysum - 1 if ysum else float("nan")


def score(cache: str, rules: list[str]) -> None:
    groups = load(cache)
    print("| group | h | rule | WAPE | ÷ naive | ÷ better of AutoETS/AutoTheta | bias |")
    print("|---|---|---|---|---|---|---|")
    for g, series in groups.items():
        for h in (7, 14):
            naive = score_group(series, "seasonal-naive", h)[0]
            best = min(score_group(series, "sf-AutoETS", h)[0], score_group(series, "sf-AutoTheta", h)[0])
            for rule in rules:
                w, bias = score_group(series, rule, h)
                print(
                    f"| {g} ({len(series)}) | {h} | {rule} | {w:.4f} | {w / naive:.3f} "
                    f"| {w / best:.3f} | {bias:+.1%} |"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["fit", "score"])
    parser.add_argument("--only", choices=["real", "held-out", "synthetic"], default=None)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "lsp-ai-candidates"))
    parser.add_argument("--rule", dest="rules", action="append", help="rule to score (repeatable)")
    parser.add_argument("--inner", type=int, default=INNER, help="inner (selection) origins; 0: none")
    args = parser.parse_args()
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    if args.what == "fit":
        tasks = [
            (g, name, s, 6, 182, args.cache, args.inner)
            for g, xs in groups_for(args.only).items()
            for name, s in xs
        ]
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            list(pool.map(fit_series, tasks))
    else:
        score(args.cache, args.rules or DEFAULT_RULES)


if __name__ == "__main__":
    main()
