"""Closures (weekly days off, Tết), intermittent series and the per-series model selection."""

from datetime import date, timedelta

import numpy as np
import pandas as pd

from lsp_ai.anomalies import detect_daily, detect_hourly
from lsp_ai.calendar_vn import tet_offset
from lsp_ai.forecast import (
    COMBINE_TOP,
    INTERMITTENT,
    REGULAR,
    backtest,
    candidate_forecasts,
    closed_weekdays,
    combine_members,
    is_intermittent,
    predict,
    select,
    wape,
)
from lsp_ai.synthetic import generate_location, weekly_series


def closed_location(seed: int):
    """A synthetic location closed every Monday (from its fifth week) and from Tết eve to Mùng 3."""
    loc = generate_location(seed=seed, days=120, anomaly_days=0)
    days = pd.DatetimeIndex(loc.daily.index)
    offsets = [tet_offset(d.date()) for d in days]
    closed = ((days.day_of_week == 0) & (np.arange(len(days)) >= 28)) | np.array(
        [o is not None and -1 <= o <= 3 for o in offsets]
    )
    daily = loc.daily.copy()
    daily.loc[closed, :] = 0
    hourly = loc.hourly.copy()
    hourly.loc[np.isin(pd.DatetimeIndex(hourly.index).normalize(), days[closed]), :] = 0
    return daily, hourly, set(days[closed])


def test_closed_days_and_the_days_after_are_not_flagged() -> None:
    for seed in (31, 32, 33):
        daily, hourly, closed = closed_location(seed)
        after = {d + timedelta(days=1) for d in closed} - closed
        flagged = {pd.Timestamp(a["businessDay"]) for a in detect_daily(daily)}
        assert not flagged & closed, f"seed {seed}: closed days flagged {sorted(flagged & closed)}"
        # A day after a closure may still be flagged for its own figures (the same location never
        # closed flags it too), never because of the closure.
        own = {
            pd.Timestamp(a["businessDay"])
            for a in detect_daily(generate_location(seed, 120, anomaly_days=0).daily)
        }
        caused = (flagged & after) - own
        assert not caused, f"seed {seed}: days after a closure flagged {sorted(caused)}"
        hours = {pd.Timestamp(a["at"]).normalize() for a in detect_hourly(hourly)}
        assert not hours & closed, f"seed {seed}: closed days flagged by the hour"


def test_a_weekly_day_off_is_forecast_closed_and_does_not_pull_the_open_days_down() -> None:
    loc = generate_location(seed=34, days=98, anomaly_days=0)
    revenue = loc.daily["revenueVnd"].astype(float)
    off = pd.DatetimeIndex(revenue.index).day_of_week == 0
    history = revenue.where(~off, 0.0)
    assert closed_weekdays(history.iloc[:84]) == {0}
    result = predict(history.iloc[:84], 14)
    future = pd.date_range(history.index[84], periods=14, freq="D")
    mean = np.asarray(result["mean"])
    assert np.all(mean[future.day_of_week == 0] == 0)
    assert np.all(mean[future.day_of_week != 0] > 0)
    # Open days are forecast about as well as when the location never closes.
    is_open = future.day_of_week != 0
    actual = revenue.iloc[84:98].to_numpy()[is_open]
    never_closed = np.asarray(predict(revenue.iloc[:84], 14)["mean"])[is_open]
    assert wape(actual, mean[is_open]) < 1.15 * wape(actual, never_closed) + 0.02


def test_an_intermittent_item_gets_an_intermittent_method_and_an_unbiased_level() -> None:
    rng = np.random.default_rng(7)
    days = pd.date_range("2026-01-05", periods=112, freq="D")
    units = pd.Series(rng.poisson(0.6, len(days)).astype(float), index=days)
    assert is_intermittent(units)
    result = predict(units.iloc[:98], 14)
    assert set(result["selection"]["members"]) <= set(INTERMITTENT)
    mean = np.asarray(result["mean"])
    assert np.all(mean >= 0)
    assert 0.4 < mean.mean() < 0.85  # the true rate is 0.6
    # Zeros of an intermittent series are demand, not closures: no weekday is forecast closed.
    assert closed_weekdays(units) == set()
    lower, upper = np.asarray(result["lower"]), np.asarray(result["upper"])
    assert np.all(lower <= mean) and np.all(mean <= upper)


def test_a_popular_item_with_small_daily_counts_is_not_under_forecast() -> None:
    # About 7 units a day with a weekly pattern: the log model's median would sit ~10 % low.
    biases = []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        days = pd.date_range("2026-01-05", periods=126, freq="D")
        rate = 7 * (1 + 0.3 * np.sin(2 * np.pi * np.arange(len(days)) / 7))
        units = pd.Series(rng.poisson(rate).astype(float), index=days)
        assert not is_intermittent(units)
        mean = np.asarray(predict(units.iloc[:112], 14)["mean"])
        biases.append(mean.sum() / rate[112:].sum() - 1)
    assert abs(float(np.mean(biases))) < 0.08


def test_an_exactly_repeating_week_is_forecast_as_itself() -> None:
    # An irregular weekly shape repeated without noise: seasonal naive (and the weekday mean) are
    # exact in the backtest, so they are among the combined candidates and the forecast is the shape.
    shape = np.array([120.0, 80.0, 300.0, 90.0, 150.0, 400.0, 60.0])
    series = pd.Series(np.tile(shape, 10), index=pd.date_range("2026-01-05", periods=70, freq="D"))
    chosen = select(series)
    assert chosen["origins"] == 4
    assert {"seasonal-naive", "weekday-mean"} <= set(chosen["members"])
    mean = np.asarray(predict(series, 7)["mean"])
    assert wape(shape, mean) < 0.02


def test_the_combination_is_the_mean_of_the_candidates_with_the_smallest_backtest_error() -> None:
    errors = {"a": 5.0, "b": 1.0, "c": 3.0, "d": 2.0, "e": 9.0}
    assert combine_members(errors, ("a", "b", "c", "d", "e")) == ("b", "d", "c")[:COMBINE_TOP]
    series = trending_noisy(0)
    chosen = select(series)
    members = chosen["members"]
    assert len(members) == COMBINE_TOP and len(set(members)) == COMBINE_TOP
    ranked = sorted(chosen["errors"], key=chosen["errors"].get)
    assert set(members) == set(ranked[:COMBINE_TOP])
    assert chosen["method"] == f"mean({','.join(members)})"
    singles = candidate_forecasts(series, 14, REGULAR)
    expected = np.mean([singles[n] for n in members], axis=0)
    assert np.allclose(predict(series, 14)["mean"], expected)


def trending_noisy(seed: int, days: int = 112) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    values = (
        1000
        * (1 + 0.004 * t)
        * (1 + 0.3 * np.sin(2 * np.pi * t / 7))
        * (1 + 0.08 * rng.standard_normal(days))
    )
    return pd.Series(values, index=pd.date_range("2026-01-05", periods=days, freq="D"))


def test_the_combination_beats_seasonal_naive_on_noisy_trending_series() -> None:
    for seed in range(3):
        series = trending_noisy(seed)
        chosen = select(series)
        assert set(chosen["members"]) <= set(REGULAR)
        bt = backtest(series, selection=chosen)
        assert bt["wape"] < bt["baselineWape"]


def test_a_very_regular_series_keeps_its_days_when_cleaned() -> None:
    from lsp_ai.forecast import clean_history

    series = weekly_series(56, noise=0.002, seed=3)
    series.iloc[30] *= 1.05  # a 5 % busier day is trade, not an outlier
    cleaned = clean_history(series)
    assert cleaned.iloc[30] == series.iloc[30]
    assert date(2026, 1, 5).weekday() == 0  # weekly_series starts on a Monday


def test_three_weeks_of_history_get_the_default_model_without_a_backtest() -> None:
    series = weekly_series(24, noise=0.05, seed=5)
    result = predict(series, 7)
    assert result["method"] == "mean(ets-AAdA-log,ets-ANA-log,theta)"
    lower, mean, upper = (np.asarray(result[k]) for k in ("lower", "mean", "upper"))
    assert np.all(lower <= mean) and np.all(mean <= upper) and np.all(lower < upper)
    assert backtest(series)["origins"] == 0
