"""Closures (weekly days off, Tết), intermittent series and the per-series model selection."""

from datetime import date, timedelta

import numpy as np
import pandas as pd

from lsp_ai.anomalies import detect_daily, detect_hourly
from lsp_ai.calendar_vn import tet_offset
from lsp_ai.forecast import (
    INTERMITTENT,
    REGULAR,
    backtest,
    closed_weekdays,
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
    assert result["method"] in INTERMITTENT
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


def test_selection_picks_seasonal_naive_when_last_week_repeats_exactly() -> None:
    # An irregular weekly shape repeated without noise: nothing beats the same weekday last week.
    shape = np.array([120.0, 80.0, 300.0, 90.0, 150.0, 400.0, 60.0])
    series = pd.Series(np.tile(shape, 10), index=pd.date_range("2026-01-05", periods=70, freq="D"))
    chosen = select(series)
    assert chosen["method"] == "seasonal-naive" and chosen["origins"] == 4
    assert predict(series, 7)["method"] == "seasonal-naive"


def test_selection_prefers_a_model_over_naive_on_a_noisy_trending_series() -> None:
    picked = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        t = np.arange(112)
        values = (
            1000
            * (1 + 0.004 * t)
            * (1 + 0.3 * np.sin(2 * np.pi * t / 7))
            * (1 + 0.08 * rng.standard_normal(len(t)))
        )
        series = pd.Series(values, index=pd.date_range("2026-01-05", periods=len(t), freq="D"))
        chosen = select(series)
        assert chosen["method"] in REGULAR
        picked.append(chosen["method"])
        bt = backtest(series, selection=chosen)
        assert bt["wape"] < bt["baselineWape"]
    assert picked.count("seasonal-naive") == 0


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
    assert result["method"] == "ets-theta-mean"
    lower, mean, upper = (np.asarray(result[k]) for k in ("lower", "mean", "upper"))
    assert np.all(lower <= mean) and np.all(mean <= upper) and np.all(lower < upper)
    assert backtest(series)["origins"] == 0
