"""Daily demand forecasts: a small set of models, chosen per series by a rolling-origin backtest.

Candidates for a series with regular trade (revenue, a popular item's units):
- `ets-AAdA-log`: ETS(A,Ad,A) on log1p(y), weekly seasonality and a damped trend (multiplicative on
  the original scale, so intervals stay positive); the back-transform adds half the residual
  variance (the mean of a log-normal, not its median: without it, small counts are under-forecast);
- `ets-ANA-log`: the same without trend (steadier on short or flat histories);
- `theta`: the Theta method with weekly (multiplicative where possible) deseasonalisation;
- `ets-theta-mean`: the average of the two ETS forecasts and Theta (combinations are robust);
- `seasonal-naive`: the same weekday last week.
For intermittent series (low counts, many zero days: a slow item) Croston's method with the
Syntetos-Boylan correction (`sba`), the same scaled by the weekday profile (`sba-weekday`), and
TSB (`tsb`, which lets the demand probability decay) replace the ETS family.

The candidate with the smallest absolute error over the last `SELECTION_ORIGINS` weekly origins
(7 days ahead each) is refitted on the whole history, if it beats the default (the combination, or
SBA) by 5 %: four weeks of errors rank close candidates noisily. The reported backtest is that selection's
own error for the chosen method (so it is slightly optimistic: it picked the best there).

**Closures.** On a series with regular trade a day with zero demand is a closed day (a weekly day
off, Tết, a holiday), not demand: before fitting, closed days, holidays (`calendar_vn`) and robust
outliers are replaced by the same weekday a week earlier; weekdays closed in at least three of the
last four weeks are forecast as closed (zero). On an intermittent series zero days are demand.
The weekdays the owner declares closed (auth's `closedWeekdays`, passed as `declared`: Monday = 0,
as `weekday()`) are closed too, whatever the history says: forecast zero, and their zero days are
closures on any series (not demand, not imputed into an intermittent series' rate). That is what
a new location (no history to infer from) or one that just changed its days needs.

With less than three weeks of history there is too little to fit a weekly model, and the
seasonal-naive answer is returned as such (the result says which method produced it).
Everything returned is plain Python (floats, ints, strings): callers send it over Dapr as JSON.
"""

import warnings
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel

from lsp_ai.calendar_vn import is_holiday

SEASON = 7
MIN_DAYS_FOR_ETS = 3 * SEASON
SELECTION_ORIGINS = 4
SELECTION_HORIZON = 7
SWITCH_MARGIN = 0.95
REGULAR = ("ets-AAdA-log", "ets-ANA-log", "theta", "ets-theta-mean", "seasonal-naive")
INTERMITTENT = ("sba", "sba-weekday", "tsb", "seasonal-naive")


def seasonal_naive(history: pd.Series, horizon: int) -> np.ndarray:
    """Same weekday last week (the baseline in the Recruit write-ups)."""
    values = history.to_numpy(dtype=float)
    if len(values) == 0:
        return np.zeros(horizon)
    if len(values) < SEASON:
        return np.full(horizon, values.mean())
    last_week = values[-SEASON:]
    return np.array([last_week[h % SEASON] for h in range(horizon)])


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Σ|e| ÷ Σy (defined on days that sell zero, unlike MAPE)."""
    total = float(np.abs(actual).sum())
    return float(np.abs(actual - predicted).sum() / total) if total > 0 else float("nan")


def mase(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray) -> float:
    """Mean absolute error scaled by the in-sample seasonal-naive error."""
    if len(train) <= SEASON:
        return float("nan")
    scale = float(np.abs(train[SEASON:] - train[:-SEASON]).mean())
    return float(np.abs(actual - predicted).mean() / scale) if scale > 0 else float("nan")


def is_intermittent(history: pd.Series) -> bool:
    """Low counts or mostly zero days: zeros are demand there, not closures."""
    values = history.to_numpy(dtype=float)
    positive = values[values > 0]
    return len(positive) == 0 or float(np.median(positive)) < 3 or len(positive) < 0.5 * len(values)


def closed_days(history: pd.Series, declared: Collection[int] = ()) -> np.ndarray:
    """Days the business was closed: zero demand on a series with regular trade, or on a weekday
    the owner declares closed (on any series: a declared day off is not a slow day)."""
    values = history.to_numpy(dtype=float)
    closed = np.zeros(len(values), dtype=bool) if is_intermittent(history) else values <= 0
    if declared:
        weekday = pd.DatetimeIndex(history.index).day_of_week
        closed |= (values <= 0) & np.isin(weekday, list(declared))
    return closed


def closed_weekdays(history: pd.Series, declared: Collection[int] = ()) -> set[int]:
    """Weekdays closed in at least three of their last four occurrences (a weekly day off), and
    those the owner declares closed."""
    closed = closed_days(history)
    index = pd.DatetimeIndex(history.index)
    found = set(declared)
    for weekday in range(SEASON):
        recent = closed[index.day_of_week == weekday][-4:]
        if len(recent) >= 3 and int(recent.sum()) >= 3:
            found.add(weekday)
    return found


def _future_closed(history: pd.Series, horizon: int, weekdays: Collection[int]) -> np.ndarray:
    """Which of the `horizon` days after the history fall on one of `weekdays`."""
    start = history.index[-1] + pd.Timedelta(days=1)
    return np.isin(pd.date_range(start, periods=horizon, freq="D").day_of_week, list(weekdays))


def clean_history(history: pd.Series, outlier_mads: float = 4.0, declared: Collection[int] = ()) -> pd.Series:
    """Closed days, holidays and days far from their weekday's usual ratio to the local weekly
    level become the value of the same weekday a week earlier (or the local mean when there is
    none). The spread has a floor (10 % of the ratio), so a very regular series keeps its days."""
    values = history.to_numpy(dtype=float).copy()
    index = pd.DatetimeIndex(history.index)
    closed = closed_days(history, declared)
    odd = closed | np.array([is_holiday(d.date()) for d in index])
    open_values = pd.Series(np.where(closed, np.nan, values))
    level = open_values.rolling(SEASON, center=True, min_periods=3).median().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = values / level
    for weekday in range(SEASON):
        mask = (index.day_of_week == weekday) & np.isfinite(ratio) & ~closed
        if mask.sum() < 3:
            continue
        med = np.median(ratio[mask])
        mad = max(1.4826 * np.median(np.abs(ratio[mask] - med)), 0.1 * abs(med))
        if mad > 0:
            odd |= mask & (np.abs(ratio - med) > outlier_mads * mad)
    for i in (int(k) for k in np.nonzero(odd)[0]):
        if i >= SEASON and not odd[i - SEASON]:
            values[i] = values[i - SEASON]
        else:
            window = [
                values[j]
                for j in range(max(0, i - 2 * SEASON), min(len(values), i + 2 * SEASON))
                if not odd[j]
            ]
            values[i] = float(np.mean(window)) if window else values[i]
    return pd.Series(values, index=history.index)


def _daily(values: np.ndarray, start: pd.Timestamp) -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D"))


def _fit_ets(y_log: pd.Series, trend: bool) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short or flat series
        return ETSModel(
            y_log,
            error="add",
            trend="add" if trend else None,
            damped_trend=trend,
            seasonal="add",
            seasonal_periods=SEASON,
            # Initial states from the first weeks instead of 9 more optimised parameters: a few
            # times faster, and no less accurate on our backtests.
            initialization_method="heuristic",
        ).fit(disp=False, maxiter=200)


def _fit(history: pd.Series) -> Any:
    """ETS(A,Ad,A) on log1p of the cleaned history (the anomaly detector's one-step forecast)."""
    y = np.log1p(np.clip(clean_history(history).to_numpy(dtype=float), 0, None))
    return _fit_ets(_daily(y, history.index[0]), trend=True)


def _ets_mean(fitted: Any, horizon: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mu = np.asarray(fitted.forecast(horizon), dtype=float)
    s2 = float(np.var(np.asarray(fitted.resid, dtype=float)[SEASON:]))
    return np.clip(np.exp(mu + s2 / 2) - 1, 0, None)


def _theta(clean: pd.Series, horizon: int) -> np.ndarray:
    positive = bool((clean > 0).all())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ThetaModel(
            clean,
            period=SEASON,
            deseasonalize=True,
            use_test=False,
            method="multiplicative" if positive else "additive",
        ).fit()
        return np.clip(np.asarray(model.forecast(horizon), dtype=float), 0, None)


def _croston(values: np.ndarray, alpha: float = 0.1) -> float:
    """Croston's demand-size / interval smoothing with the Syntetos-Boylan correction."""
    nonzero = np.nonzero(values > 0)[0]
    if len(nonzero) == 0:
        return 0.0
    size, interval, last = values[nonzero[0]], float(nonzero[0] + 1), nonzero[0]
    for i in nonzero[1:]:
        size += alpha * (values[i] - size)
        interval += alpha * ((i - last) - interval)
        last = i
    return float((1 - alpha / 2) * size / interval)


def _tsb(values: np.ndarray, alpha: float = 0.1, beta: float = 0.1) -> float:
    """Teunter-Syntetos-Babai: demand size and demand probability smoothed every day."""
    nonzero = values[values > 0]
    if len(nonzero) == 0:
        return 0.0
    size, prob = float(nonzero[0]), float(len(nonzero) / len(values))
    for v in values:
        prob += beta * (float(v > 0) - prob)
        if v > 0:
            size += alpha * (v - size)
    return size * prob


def _weekday_profile(history: pd.Series, horizon: int, weeks: int = 8) -> np.ndarray:
    """Each future day's weekday share of the recent weeks' demand, times 7 (mean 1)."""
    recent = history.iloc[-weeks * SEASON :]
    by_day = recent.groupby(pd.DatetimeIndex(recent.index).day_of_week).mean()
    total = float(by_day.mean())
    start = history.index[-1] + pd.Timedelta(days=1)
    days = pd.date_range(start, periods=horizon, freq="D").day_of_week
    if total <= 0:
        return np.ones(horizon)
    shrunk = 0.5 + 0.5 * by_day.reindex(range(SEASON), fill_value=total) / total  # halfway to flat
    return np.asarray([shrunk[d] for d in days], dtype=float)


def candidate_forecasts(
    history: pd.Series, horizon: int, names: tuple[str, ...], declared: Collection[int] = ()
) -> dict[str, np.ndarray]:
    """Point forecasts of each named candidate, future closed weekdays (inferred or declared) at
    zero. The intermittent methods' rate is per open day: closures do not dilute it."""
    out: dict[str, np.ndarray] = {}
    values = history.to_numpy(dtype=float)[~closed_days(history, declared)]
    if "seasonal-naive" in names:
        out["seasonal-naive"] = seasonal_naive(history, horizon)
    if "sba" in names or "sba-weekday" in names:
        flat = np.full(horizon, _croston(values))
        out["sba"] = flat
        out["sba-weekday"] = flat * _weekday_profile(history, horizon)
    if "tsb" in names:
        out["tsb"] = np.full(horizon, _tsb(values))
    if any(n.startswith(("ets", "theta")) for n in names):
        clean = clean_history(history, declared=declared)
        clean = _daily(np.clip(clean.to_numpy(dtype=float), 0, None), history.index[0])
        y_log = np.log1p(clean)
        out["ets-AAdA-log"] = _ets_mean(_fit_ets(y_log, trend=True), horizon)
        out["ets-ANA-log"] = _ets_mean(_fit_ets(y_log, trend=False), horizon)
        out["theta"] = _theta(clean, horizon)
        out["ets-theta-mean"] = (out["ets-AAdA-log"] + out["ets-ANA-log"] + out["theta"]) / 3
    closed = closed_weekdays(history, declared)
    if closed:
        off = _future_closed(history, horizon, closed)
        for name in out:
            out[name] = np.where(off, 0.0, out[name])
    return {n: out[n] for n in names}


def select(
    history: pd.Series, origins: int = SELECTION_ORIGINS, declared: Collection[int] = ()
) -> dict[str, Any]:
    """Rolling-origin backtest of every candidate: weekly origins, 7 days ahead each."""
    names = INTERMITTENT if is_intermittent(history) else REGULAR
    errors: dict[str, list[float]] = {n: [] for n in names}
    actuals: list[np.ndarray] = []
    predictions: dict[str, list[np.ndarray]] = {n: [] for n in names}
    used = 0
    for k in range(origins, 0, -1):
        cut = len(history) - k * SELECTION_HORIZON
        if cut < MIN_DAYS_FOR_ETS:
            continue
        train = history.iloc[:cut]
        test = history.iloc[cut : cut + SELECTION_HORIZON].to_numpy(dtype=float)
        for name, pred in candidate_forecasts(train, len(test), names, declared).items():
            errors[name].append(float(np.abs(test - pred).sum()))
            predictions[name].append(pred)
        actuals.append(test)
        used += 1
    if not used:
        return {"method": "seasonal-naive", "origins": 0, "names": names}  # predict uses the default
    # The combination (or SBA) is the default; another candidate must beat it clearly, since four
    # weeks of errors are a noisy ranking.
    default = names[3] if names is REGULAR else names[0]
    best = min(names, key=lambda n: (sum(errors[n]), names.index(n)))
    if sum(errors[best]) > SWITCH_MARGIN * sum(errors[default]):
        best = default
    return {
        "method": best,
        "origins": used,
        "names": names,
        "actual": np.concatenate(actuals),
        "predicted": np.concatenate(predictions[best]),
        "naive": np.concatenate(predictions["seasonal-naive"]),
    }


def _short_history(
    history: pd.Series, horizon: int, coverage: float, declared: Collection[int] = ()
) -> dict[str, Any]:
    naive = seasonal_naive(history, horizon)
    values = history.to_numpy(dtype=float)
    if 0 < len(values) < SEASON and declared:
        # Less than a week: the mean of the open days (a declared closure is not a slow day).
        open_values = values[~closed_days(history, declared)]
        naive = np.full(horizon, open_values.mean() if len(open_values) else 0.0)
    if len(values) < 2 * SEASON:
        # Too short for any measured spread: the interval collapses to the point, said by the method.
        method = "seasonal-naive-no-interval" if len(values) >= SEASON else "history-mean-no-interval"
        return {"method": method, "mean": naive, "lower": naive, "upper": naive}
    errors = values[SEASON:] - values[:-SEASON]  # the baseline's own week-over-week errors
    low, high = np.quantile(errors, [(1 - coverage) / 2, (1 + coverage) / 2])
    return {
        "method": "seasonal-naive",
        "mean": naive,
        "lower": np.clip(naive + low, 0, None),
        "upper": np.clip(naive + high, 0, None),
    }


def predict(
    history: pd.Series, horizon: int, coverage: float = 0.8, declared: Collection[int] = ()
) -> dict[str, Any]:
    """Point forecast and a `coverage` prediction interval, `horizon` days after the history,
    from the candidate chosen by the rolling-origin backtest (`selection` has its errors); zero,
    interval included, on the weekdays the owner declares closed."""
    result = _predict(history, horizon, coverage, declared)
    # The one place that guarantees it on every path: the backtested path already has 0 there
    # (candidate_forecasts zeroes the mean, the interval scales it), but the short-history and
    # 3-4-week paths take their spread from seasonal naive's errors, which are not 0 on those days.
    if declared and len(history):
        off = _future_closed(history, horizon, declared)
        for key in ("mean", "lower", "upper"):
            result[key] = np.where(off, 0.0, result[key])
    return result


def _predict(history: pd.Series, horizon: int, coverage: float, declared: Collection[int]) -> dict[str, Any]:
    if len(history) < MIN_DAYS_FOR_ETS:
        return _short_history(history, horizon, coverage, declared)
    chosen = select(history, declared=declared)
    if not chosen["origins"]:
        # 3-4 weeks: too short for a backtest, long enough to fit. The default candidate, with the
        # spread of seasonal naive's own week-over-week errors.
        names = chosen["names"]
        method = names[3] if names is REGULAR else names[0]
        mean = candidate_forecasts(history, horizon, (method,), declared)[method]
        naive = _short_history(history, horizon, coverage, declared)
        lower = np.clip(mean + (naive["lower"] - naive["mean"]), 0, None)
        upper = mean + (naive["upper"] - naive["mean"])
        return {
            "method": method,
            "mean": mean,
            "lower": np.minimum(lower, mean),
            "upper": np.maximum(upper, mean),
        }
    method = str(chosen["method"])
    mean = candidate_forecasts(history, horizon, (method,), declared)[method]
    lower, upper = _interval(chosen, mean, coverage, is_intermittent(history))
    return {"method": method, "mean": mean, "lower": lower, "upper": upper, "selection": chosen}


def _interval(
    chosen: dict[str, Any], mean: np.ndarray, coverage: float, intermittent: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of the chosen method's own backtest errors (ratios on regular series), widened
    a little with the horizon; collapsed to the point on a closed day."""
    qs = [(1 - coverage) / 2, (1 + coverage) / 2]
    actual, predicted = chosen.get("actual"), chosen.get("predicted")
    widen = np.sqrt(1 + np.arange(len(mean)) / (2 * SELECTION_HORIZON))
    if actual is None or predicted is None or len(actual) < SEASON:
        return mean, mean
    if intermittent:
        low, high = np.quantile(actual - predicted, qs)
        return np.clip(mean + min(low, 0) * widen, 0, None), mean + max(high, 0) * widen
    ok = (actual > 0) & (predicted > 0)
    if ok.sum() < SEASON:
        return mean, mean
    low, high = np.quantile(np.log(actual[ok] / predicted[ok]), qs)
    low, high = min(low, -0.02), max(high, 0.02)
    return mean * np.exp(low * widen), mean * np.exp(high * widen)


def forecast(
    history: pd.Series, horizon: int, with_backtest: bool = True, declared: Collection[int] = ()
) -> dict[str, Any]:
    """The actor's answer: points with intervals and the baseline, plus the backtest; `declared`:
    the weekdays the owner says the location is closed (Monday = 0)."""
    result = predict(history, horizon, declared=declared)
    naive = seasonal_naive(history, horizon)
    start = history.index[-1] + pd.Timedelta(days=1) if len(history) else pd.Timestamp.today().normalize()
    points = [
        {
            "day": (start + pd.Timedelta(days=h)).date().isoformat(),
            "value": round(float(result["mean"][h]), 2),
            "lower": round(float(result["lower"][h]), 2),
            "upper": round(float(result["upper"][h]), 2),
            "baseline": round(float(naive[h]), 2),
        }
        for h in range(horizon)
    ]
    return {
        "method": str(result["method"]),
        "historyDays": len(history),
        "points": points,
        "backtest": backtest(history, selection=result.get("selection")) if with_backtest else None,
    }


def backtest(
    history: pd.Series, horizon: int = SELECTION_HORIZON, selection: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The chosen method's errors over the selection's weekly origins, 7 days ahead."""
    chosen: dict[str, Any] = (
        selection
        if selection is not None
        else (select(history) if len(history) >= MIN_DAYS_FOR_ETS else {"origins": 0})
    )
    if not chosen.get("origins"):
        return {"origins": 0, "horizonDays": horizon, "wape": None, "baselineWape": None, "mase": None}
    actual, model, naive = chosen["actual"], chosen["predicted"], chosen["naive"]
    train = history.to_numpy(dtype=float)[: len(history) - len(actual)]
    return {
        "origins": int(chosen["origins"]),
        "horizonDays": horizon,
        "wape": _finite(wape(actual, model)),
        "baselineWape": _finite(wape(actual, naive)),
        "mase": _finite(mase(actual, model, train)),
    }


def _finite(v: float) -> float | None:
    return round(float(v), 4) if np.isfinite(v) else None
