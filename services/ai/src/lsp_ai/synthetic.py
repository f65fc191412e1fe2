"""Seeded synthetic restaurant data for offline evaluation and tests (docs/domain.md §4).

Demand per location x hour is negative binomial around a weekday-hour profile, scaled by a trend,
Tết and public-holiday effects, payday (the days after the 1st and the 15th) and rain; items
follow a Zipf popularity with occasional promotions. Anomalies are injected on chosen days and
returned as labels:
- `payment_outage`: revenue falls while orders stay flat (payments not recorded);
- `void_spike`: the void rate jumps (a cashier cancelling printed bills).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from lsp_ai.calendar_vn import FIXED_HOLIDAYS, is_holiday, tet_offset

# Business-day profile: Monday … Sunday (weekends busier).
WEEKDAY = np.array([0.85, 0.82, 0.88, 0.95, 1.12, 1.32, 1.25])
# Orders share per local hour 0..23 (breakfast phở, lunch, an evening peak; closed 23:00-05:00).
HOUR = np.array(
    [
        0,
        0,
        0,
        0,
        0,
        0.3,
        0.9,
        1.1,
        0.8,
        0.5,
        0.6,
        1.3,
        1.6,
        1.0,
        0.5,
        0.4,
        0.5,
        0.9,
        1.5,
        1.6,
        1.2,
        0.7,
        0.3,
        0,
    ]
)
HOUR = HOUR / HOUR.sum()
PAYMENT_METHODS = ("cash", "card", "momo", "zalopay", "vnpay")
PAYMENT_MIX = np.array([0.45, 0.1, 0.25, 0.12, 0.08])


def holiday_factor(day: date) -> float:
    offset = tet_offset(day)
    if offset is not None and -1 <= offset <= 3:
        return 0.35  # most places close or run short hours over Tết
    if offset is not None and -7 <= offset < -1:
        return 1.25  # pre-Tết rush
    return 1.3 if (day.month, day.day) in FIXED_HOLIDAYS else 1.0


@dataclass
class Location:
    name: str
    daily: pd.DataFrame  # index: business day; revenueVnd, orders, voids, cash, card, momo, zalopay, vnpay
    hourly: pd.DataFrame  # index: local hour timestamp; revenueVnd, orders
    items: pd.DataFrame  # columns: day, itemId, quantity, revenueVnd
    menu: pd.DataFrame  # index: itemId; name, priceVnd, costVnd
    anomalies: dict[str, str] = field(default_factory=dict)  # business day (ISO) -> kind
    # Heavy-rain days (ISO): real demand drops, not anomalies; kept so an evaluation can tell them apart.
    rain_days: set[str] = field(default_factory=set)


def generate_location(
    seed: int,
    days: int = 120,
    start: date = date(2025, 12, 1),
    n_items: int = 20,
    anomaly_days: int = 4,
    anomaly_from_day: int = 35,
) -> Location:
    rng = np.random.default_rng(seed)
    base_orders = rng.uniform(120, 400)
    trend = rng.uniform(-0.001, 0.003)  # per day
    dispersion = rng.uniform(15, 40)  # negative-binomial size: smaller = noisier
    weekday = WEEKDAY * rng.uniform(0.92, 1.08, 7)
    prices = np.round(rng.uniform(25, 95, n_items)) * 1000
    costs = np.round(prices * rng.uniform(0.25, 0.55, n_items) / 1000) * 1000
    popularity = 1.0 / np.arange(1, n_items + 1) ** 1.1
    rng.shuffle(popularity)
    popularity /= popularity.sum()
    item_ids = [f"item-{seed}-{i:02d}" for i in range(n_items)]
    void_rate = rng.uniform(0.01, 0.03)

    # Anomalies on distinct days after a warm-up, never on holidays (labels stay unambiguous).
    candidates = [d for d in range(anomaly_from_day, days) if not is_holiday(start + timedelta(d))]
    chosen = rng.choice(candidates, size=min(anomaly_days, len(candidates)), replace=False)
    anomalies = {
        (start + timedelta(int(d))).isoformat(): ("payment_outage" if i % 2 == 0 else "void_spike")
        for i, d in enumerate(sorted(chosen))
    }

    daily_rows, hourly_rows, item_rows = [], [], []
    promo_item, promo_until = -1, -1
    rain_days: set[str] = set()
    for d in range(days):
        day = start + timedelta(d)
        if d > promo_until and rng.random() < 0.03:
            promo_item, promo_until = int(rng.integers(n_items)), d + int(rng.integers(3, 8))
        mult = weekday[day.weekday()] * (1 + trend * d) * holiday_factor(day)
        mult *= 1.08 if day.day in (1, 2, 3, 15, 16) else 1.0  # payday
        if rng.random() < 0.12:  # heavy rain
            mult *= rng.uniform(0.7, 0.85)
            rain_days.add(day.isoformat())
        mean_hourly = base_orders * mult * HOUR
        orders_h = np.where(
            mean_hourly > 0,
            rng.negative_binomial(dispersion, dispersion / (dispersion + np.maximum(mean_hourly, 1e-9))),
            0,
        )
        units_h = orders_h + rng.poisson(orders_h * 0.6)
        p = popularity.copy()
        if d <= promo_until and promo_item >= 0:
            p[promo_item] *= 2.5
            p /= p.sum()
        qty = np.array([rng.multinomial(u, p) for u in units_h])  # hours x items
        revenue_h = qty @ prices
        kind = anomalies.get(day.isoformat())
        orders = int(orders_h.sum())
        revenue = int(revenue_h.sum())
        voids = int(rng.binomial(orders, void_rate))
        if kind == "payment_outage":
            # Orders keep coming, but e-wallet and card payments are not recorded: revenue falls.
            lost = rng.uniform(0.35, 0.6)
            revenue_h = (revenue_h * (1 - lost)).astype(int)
            revenue = int(revenue_h.sum())
        elif kind == "void_spike":
            voids = int(rng.binomial(orders, min(0.5, void_rate * rng.uniform(5, 9))))
        pay = rng.multinomial(orders, PAYMENT_MIX)
        daily_rows.append(
            {"day": pd.Timestamp(day), "revenueVnd": revenue, "orders": orders, "voids": voids}
            | {m: int(n) for m, n in zip(PAYMENT_METHODS, pay, strict=True)}
        )
        for h in range(24):
            if orders_h[h]:
                hourly_rows.append(
                    {
                        "hour": pd.Timestamp(day) + pd.Timedelta(hours=h),
                        "revenueVnd": int(revenue_h[h]),
                        "orders": int(orders_h[h]),
                    }
                )
        day_qty = qty.sum(axis=0)
        for i in np.nonzero(day_qty)[0]:
            item_rows.append(
                {
                    "day": pd.Timestamp(day),
                    "itemId": item_ids[i],
                    "quantity": int(day_qty[i]),
                    "revenueVnd": int(day_qty[i] * prices[i]),
                }
            )
    menu = pd.DataFrame(
        {"name": [f"Món {i + 1}" for i in range(n_items)], "priceVnd": prices, "costVnd": costs},
        index=pd.Index(item_ids, name="itemId"),
    )
    return Location(
        name=f"loc-{seed}",
        daily=pd.DataFrame(daily_rows).set_index("day").asfreq("D", fill_value=0),
        hourly=pd.DataFrame(hourly_rows).set_index("hour"),
        items=pd.DataFrame(item_rows),
        menu=menu,
        anomalies=anomalies,
        rain_days=rain_days,
    )


def weekly_series(
    days: int, level: float = 1000.0, amplitude: float = 0.3, noise: float = 0.05, seed: int = 0
) -> pd.Series:
    """A plain daily series with a known weekly pattern (for model tests)."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    pattern = 1 + amplitude * np.sin(2 * np.pi * t / 7)
    values = level * pattern * (1 + noise * rng.standard_normal(days))
    return pd.Series(values, index=pd.date_range("2026-01-05", periods=days, freq="D"))


def to_state(loc: Location, days: int | None = None) -> dict:
    """The actor state the same history would leave behind (hours keyed in UTC, Vietnam = UTC+7)."""
    daily = loc.daily if days is None else loc.daily.iloc[-days:]
    first = daily.index[0]
    state: dict = {"tenantId": None, "days": {}, "hours": {}, "itemNames": {}, "seen": [], "version": 1}
    for day, (_, row) in zip(pd.DatetimeIndex(daily.index), daily.iterrows(), strict=True):
        state["days"][day.date().isoformat()] = {
            "revenueVnd": int(row["revenueVnd"]),
            "orders": int(row["orders"]),
            "voids": int(row["voids"]),
            "voidedVnd": 0,
            "payments": {m: int(row[m]) for m in PAYMENT_METHODS},
            "items": {},
        }
    for _, r in loc.items[loc.items["day"] >= first].iterrows():
        state["days"][r["day"].date().isoformat()]["items"][r["itemId"]] = [
            int(r["quantity"]),
            int(r["revenueVnd"]),
        ]
    for at, r in loc.hourly[loc.hourly.index >= first].iterrows():
        key = (at - pd.Timedelta(hours=7)).strftime("%Y-%m-%dT%H")
        state["hours"][key] = {"revenueVnd": int(r["revenueVnd"]), "orders": int(r["orders"])}
    state["itemNames"] = {str(k): str(v) for k, v in loc.menu["name"].items()}
    state["lastEventAt"] = None
    return state
