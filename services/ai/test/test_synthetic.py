import numpy as np
import pandas as pd

from lsp_ai.calendar_vn import is_holiday
from lsp_ai.synthetic import WEEKDAY, generate_location, weekly_series


def test_the_same_seed_gives_the_same_data_and_labels() -> None:
    a, b = generate_location(seed=7, days=60), generate_location(seed=7, days=60)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    pd.testing.assert_frame_equal(a.hourly, b.hourly)
    pd.testing.assert_frame_equal(a.items, b.items)
    assert a.anomalies == b.anomalies
    assert a.rain_days == b.rain_days


def test_different_seeds_give_different_locations() -> None:
    a, b = generate_location(seed=1, days=60), generate_location(seed=2, days=60)
    assert not a.daily["revenueVnd"].equals(b.daily["revenueVnd"])


def test_series_are_daily_with_hours_and_items_that_add_up() -> None:
    loc = generate_location(seed=3, days=60)
    assert len(loc.daily) == 60
    assert (loc.daily.index[1:] - loc.daily.index[:-1] == pd.Timedelta(days=1)).all()
    hourly_orders = loc.hourly["orders"].groupby(pd.DatetimeIndex(loc.hourly.index).normalize()).sum()
    assert hourly_orders.reindex(loc.daily.index, fill_value=0).tolist() == loc.daily["orders"].tolist()
    payments = loc.daily[["cash", "card", "momo", "zalopay", "vnpay"]].sum(axis=1)
    assert payments.tolist() == loc.daily["orders"].tolist()
    assert set(loc.items["itemId"]) <= set(loc.menu.index)


def test_weekends_are_busier_as_the_weekday_profile_says() -> None:
    loc = generate_location(seed=5, days=120, anomaly_days=0)
    normal = loc.daily[[not is_holiday(d.date()) for d in loc.daily.index]]
    by_weekday = normal["orders"].groupby(pd.DatetimeIndex(normal.index).day_of_week).mean()
    # Saturday (5) is the profile's busiest day and Tuesday (1) its quietest.
    assert by_weekday.idxmax() in (4, 5, 6)
    assert by_weekday.idxmin() in (0, 1, 2)
    ratio = by_weekday[5] / by_weekday[1]
    assert abs(ratio - WEEKDAY[5] / WEEKDAY[1]) < 0.35


def test_tet_closes_restaurants_down() -> None:
    # 2026-02-17 is Mùng 1 Tết: demand collapses around it compared with a normal week before.
    loc = generate_location(seed=11, days=120, start=pd.Timestamp("2025-12-01").date(), anomaly_days=0)
    tet = loc.daily.loc["2026-02-17":"2026-02-19", "orders"].mean()
    before = loc.daily.loc["2026-01-12":"2026-01-25", "orders"].mean()
    assert tet < 0.6 * before


def test_injected_anomalies_have_the_labelled_shape() -> None:
    loc = generate_location(seed=9, days=120, anomaly_days=6)
    assert len(loc.anomalies) == 6
    assert set(loc.anomalies.values()) == {"payment_outage", "void_spike"}
    daily = loc.daily
    ticket = daily["revenueVnd"] / daily["orders"]
    void_rate = daily["voids"] / daily["orders"]
    for day, kind in loc.anomalies.items():
        assert not is_holiday(pd.Timestamp(day).date())
        if kind == "payment_outage":
            # Revenue falls, orders do not: the average ticket is well below its usual level.
            assert ticket[day] < 0.75 * ticket.median()
        else:
            assert void_rate[day] > 3 * void_rate.median()


def test_weekly_series_has_a_period_of_seven() -> None:
    s = weekly_series(70, noise=0.0)
    assert np.allclose(s.to_numpy()[7:], s.to_numpy()[:-7])


def test_rain_days_are_recorded_and_quieter() -> None:
    loc = generate_location(seed=12, days=120, anomaly_days=0)
    assert 0.05 * 120 < len(loc.rain_days) < 0.25 * 120
    normal = loc.daily[[not is_holiday(d.date()) for d in loc.daily.index]]
    rain = pd.DatetimeIndex(normal.index).strftime("%Y-%m-%d").isin(sorted(loc.rain_days))
    # Same weekday mix on both sides is not guaranteed, so compare against the weekday profile.
    level = normal["orders"] / WEEKDAY[pd.DatetimeIndex(normal.index).day_of_week]
    assert level[rain].mean() < 0.9 * level[~rain].mean()
