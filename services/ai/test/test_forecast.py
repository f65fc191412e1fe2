import json

import numpy as np
import pandas as pd
import pytest

from lsp_ai.forecast import forecast, mase, predict, seasonal_naive, wape
from lsp_ai.synthetic import weekly_series


def trending_weekly(days: int, seed: int) -> pd.Series:
    """Weekly pattern x a 0.6 %/day trend x 6 % noise: seasonal naive lags a week behind the trend."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    pattern = np.array([0.8, 0.75, 0.85, 0.95, 1.15, 1.4, 1.3])
    values = 1000 * pattern[t % 7] * (1 + 0.006 * t) * (1 + 0.06 * rng.standard_normal(days))
    return pd.Series(values, index=pd.date_range("2026-03-02", periods=days, freq="D"))


def test_seasonal_naive_repeats_last_week() -> None:
    history = pd.Series(np.arange(14, dtype=float), index=pd.date_range("2026-03-02", periods=14))
    assert seasonal_naive(history, 9).tolist() == [7, 8, 9, 10, 11, 12, 13, 7, 8]


def test_wape_and_mase_by_hand() -> None:
    actual, predicted = np.array([10.0, 20.0, 30.0]), np.array([12.0, 18.0, 30.0])
    assert wape(actual, predicted) == pytest.approx(4 / 60)
    train = np.array([1.0, 2, 3, 4, 5, 6, 7, 3, 4, 5, 6, 7, 8, 9])  # |naive error| = 2 each day
    assert mase(actual, predicted, train) == pytest.approx((4 / 3) / 2)


def test_the_known_weekly_pattern_is_recovered() -> None:
    history = weekly_series(84, amplitude=0.3, noise=0.03, seed=1)
    truth = weekly_series(98, amplitude=0.3, noise=0.0).to_numpy()[84:]
    result = predict(history, 14)
    assert result["method"] != "seasonal-naive"
    mean = np.asarray(result["mean"])
    assert np.corrcoef(mean, truth)[0, 1] > 0.95
    assert wape(truth, mean) < 0.05


def test_ets_beats_seasonal_naive_on_a_trending_seasonal_series() -> None:
    model_errors, naive_errors = [], []
    for seed in range(5):
        series = trending_weekly(112, seed)
        train, test = series.iloc[:-14], series.iloc[-14:].to_numpy()
        model_errors.append(wape(test, np.asarray(predict(train, 14)["mean"])))
        naive_errors.append(wape(test, seasonal_naive(train, 14)))
    assert np.mean(model_errors) < 0.8 * np.mean(naive_errors)


def test_intervals_bracket_the_forecast_and_mostly_cover_the_truth() -> None:
    series = trending_weekly(112, seed=42)
    train, test = series.iloc[:-14], series.iloc[-14:].to_numpy()
    result = predict(train, 14, coverage=0.9)
    lower, mean, upper = (np.asarray(result[k]) for k in ("lower", "mean", "upper"))
    assert np.all(lower <= mean) and np.all(mean <= upper) and np.all(lower < upper)
    assert np.mean((test >= lower) & (test <= upper)) >= 0.7


def test_forecast_is_plain_json_with_baseline_and_backtest() -> None:
    series = trending_weekly(70, seed=3)
    result = forecast(series, 7)
    json.dumps(result)  # no numpy or pandas values leak out
    assert [p["day"] for p in result["points"]][:2] == ["2026-05-11", "2026-05-12"]
    assert all(isinstance(p["value"], float) and isinstance(p["baseline"], float) for p in result["points"])
    bt = result["backtest"]
    assert bt["origins"] == 4 and bt["horizonDays"] == 7
    assert isinstance(bt["wape"], float) and isinstance(bt["mase"], float)
    assert bt["wape"] < bt["baselineWape"]


def test_short_history_falls_back_to_seasonal_naive_and_says_so() -> None:
    series = trending_weekly(10, seed=0)
    result = forecast(series, 3)
    assert result["method"].startswith("seasonal-naive")
    assert result["backtest"]["origins"] == 0 and result["backtest"]["wape"] is None
    assert [p["value"] for p in result["points"]] == [round(v, 2) for v in series.iloc[3:6]]
