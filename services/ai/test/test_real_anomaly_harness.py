"""The real-series anomaly evaluation's harness (scripts/evaluate_real_anomalies.py): what it
injects must be where it says, or its table means nothing. Runs on a generated series (the real ones
come with the `eval` dependency group)."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from lsp_ai.calendar_vn import is_holiday

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def harness() -> ModuleType:
    sys.path.insert(0, str(SCRIPTS))  # the script imports its sibling evaluate_forecasts
    try:
        spec = importlib.util.spec_from_file_location(
            "evaluate_real_anomalies", SCRIPTS / "evaluate_real_anomalies.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(SCRIPTS))


def demand(days: int, level: float, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    weekly = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.4, 1.3])
    index = pd.date_range("2015-03-02", periods=days, freq="D")
    return pd.Series(rng.poisson(level * weekly[index.day_of_week]).astype(float), index=index)


def test_injections_and_closures_land_where_the_table_says() -> None:
    h = harness()
    for n in range(6):  # n % 3 decides the closures: none, a weekday, a block
        series = demand(120, 3000.0 if n % 2 else 200.0, seed=n)
        window = h.build("test", series, n, seed=0)
        daily, labels, closed = window.daily, window.labels, window.closed
        assert window.scaled == bool(n % 2)
        assert sorted(labels.values()) == sorted(h.KINDS)
        days = list(daily.index)
        after = {d + pd.Timedelta(days=1) for d in closed}
        for day in labels:
            assert days.index(day) >= h.FIRST_INJECTED_DAY
            assert not is_holiday(day.date()) and day not in closed and day not in after
        gaps = np.diff(sorted(days.index(d) for d in labels))
        assert gaps.min() >= 2
        assert (daily.loc[sorted(closed)] == 0).all().all()
        if n % 3 == 1:
            assert len({d.day_of_week for d in closed}) == 1 and len(closed) >= 12
        if n % 3 == 2:
            assert 3 <= len(closed) <= 5
        if n % 3 == 0:
            assert not closed


def test_each_injected_kind_changes_what_it_names() -> None:
    h = harness()
    series = demand(120, 200.0, seed=7)
    first = h.build("test", series, 0, seed=3).daily  # no closures in window 0
    # The same seed gives the same made-up frame; rebuild and compare the injected days with it.
    rng = np.random.default_rng([3, 0, sum(map(ord, "test"))])
    base, _ = h.daily_frame(series, rng)
    window = h.build("test", series, 0, seed=3)
    assert first.equals(window.daily)
    for day, kind in window.labels.items():
        got, was = window.daily.loc[day].astype(float), base.loc[day].astype(float)
        if kind in h.DEMAND_FACTOR:
            assert abs(got["orders"] / was["orders"] - h.DEMAND_FACTOR[kind]) < 0.02
            assert abs(got["revenueVnd"] / was["revenueVnd"] - h.DEMAND_FACTOR[kind]) < 0.02
        elif kind == "payment_outage":
            assert got["orders"] == was["orders"]
            assert 0.35 <= got["revenueVnd"] / was["revenueVnd"] <= 0.66
        else:
            assert got["orders"] == was["orders"] and got["voids"] >= 3 * max(was["voids"], 1)


def test_the_recall_bound_follows_the_residual_spread() -> None:
    """The oracle bound in both tables: with normal residuals of spread s, a -30 % day is
    -log(0.7)/s sigma below, and a threshold that flags 1 clean day in 14 finds it with probability
    Phi(-log(0.7)/s - 1.465). 0.125 is the synthetic locations' spread, 0.2 bike sharing's."""
    bound = harness().drop_30_bound
    rng = np.random.default_rng(7)
    for spread, expected in ((0.125, 0.917), (0.2, 0.625)):
        found, days = bound(rng.normal(0, spread, 200_000))
        assert days == 200_000
        assert abs(found / days - expected) < 0.01, (spread, found / days)
    assert bound(np.array([])) == (0, 0)
