"""From a location's actor state to answers: forecasts, anomalies, recommendations, pricing.

These functions run in the fit worker processes (insights.run_cpu_bound): they take the plain
state dict, build pandas frames, and return plain JSON (no numpy or pandas values leave here).
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from lsp_ai import anomalies, forecast, pricing, recommendations
from lsp_ai.insights import InsightsState

PAYMENT_METHODS = ("cash", "card", "momo", "zalopay", "vnpay")
MODEL_HORIZON_DAYS = 14


def daily_frame(state: InsightsState) -> pd.DataFrame:
    """One row per business day from the first to the last seen (missing days are zero)."""
    days = state.get("days", {})
    if not days:
        return pd.DataFrame(columns=["revenueVnd", "orders", "voids", *PAYMENT_METHODS])
    rows = [
        {
            "day": pd.Timestamp(d),
            "revenueVnd": int(f.get("revenueVnd", 0)),
            "orders": int(f.get("orders", 0)),
            "voids": int(f.get("voids", 0)),
        }
        | {m: int(f.get("payments", {}).get(m, 0)) for m in PAYMENT_METHODS}
        for d, f in days.items()
    ]
    return pd.DataFrame(rows).set_index("day").sort_index().asfreq("D", fill_value=0)


def with_rain(daily: pd.DataFrame, heavy_rain_days: Sequence[str]) -> pd.DataFrame:
    """The daily frame with the anomaly model's `rain` column (True on the labelled days), or as
    it is when no day is labelled (no weather known: the plain threshold applies)."""
    if not heavy_rain_days:
        return daily
    rainy = pd.DatetimeIndex([pd.Timestamp(d) for d in heavy_rain_days])
    return daily.assign(rain=pd.DatetimeIndex(daily.index).isin(rainy))


def items_frame(state: InsightsState) -> pd.DataFrame:
    rows = [
        {"day": pd.Timestamp(d), "itemId": item, "quantity": int(v[0]), "revenueVnd": int(v[1])}
        for d, f in state.get("days", {}).items()
        for item, v in f.get("items", {}).items()
    ]
    return pd.DataFrame(rows, columns=["day", "itemId", "quantity", "revenueVnd"])


def hourly_frame(state: InsightsState, time_zone: str) -> pd.DataFrame:
    """Hours on the location's clock (naive local timestamps)."""
    hours = state.get("hours", {})
    if not hours:
        return pd.DataFrame(columns=["revenueVnd", "orders"], index=pd.DatetimeIndex([]))
    index = pd.DatetimeIndex([pd.Timestamp(f"{k}:00:00", tz="UTC") for k in hours])
    local = index.tz_convert(ZoneInfo(time_zone)).tz_localize(None)
    frame = pd.DataFrame(
        {
            "revenueVnd": [int(v["revenueVnd"]) for v in hours.values()],
            "orders": [int(v["orders"]) for v in hours.values()],
        },
        index=local,
    )
    return frame.groupby(level=0).sum().sort_index()


def menu_frame(state: InsightsState, costs: dict[str, int] | None = None) -> pd.DataFrame:
    names = state.get("itemNames", {})
    frame = pd.DataFrame({"name": pd.Series(names, dtype=object)})
    frame["costVnd"] = pd.Series(costs or {}, dtype=float).reindex(frame.index)
    return frame


def forecast_series(state: InsightsState, item_id: str | None) -> pd.Series:
    if item_id is None:
        return daily_frame(state)["revenueVnd"].astype(float)
    daily = daily_frame(state)
    units = {
        pd.Timestamp(d): int(f.get("items", {}).get(item_id, [0, 0])[0])
        for d, f in state.get("days", {}).items()
    }
    return pd.Series(units, dtype=float).reindex(daily.index, fill_value=0.0)


def item_forecast(
    state: InsightsState, item_id: str | None, days: int, closed_weekdays: Sequence[int] = ()
) -> dict[str, Any]:
    series = forecast_series(state, item_id)
    result = forecast.forecast(series, days, declared=closed_weekdays)
    result["target"] = "units" if item_id else "revenueVnd"
    return result


def train(
    state: InsightsState,
    time_zone: str,
    horizon: int = MODEL_HORIZON_DAYS,
    closed_weekdays: Sequence[int] = (),
    now_iso: str | None = None,
    heavy_rain_days: Sequence[str] = (),
) -> dict[str, Any]:
    """The daily retrain: location forecast with backtest, anomalies, recommendations.
    `closed_weekdays`: the days the owner says the location is closed (Monday = 0).
    `heavy_rain_days`: business days owners said had heavy rain (YYYY-MM-DD); only the anomaly
    model uses them (it estimates rain's effect from them), the forecast does not."""
    now = now_iso or datetime.now(UTC).isoformat()
    daily = daily_frame(state)
    revenue = daily["revenueVnd"].astype(float)
    fc = forecast.forecast(revenue, horizon, declared=closed_weekdays)
    fc["target"] = "revenueVnd"
    found_days = anomalies.detect_daily(with_rain(daily, heavy_rain_days))
    hourly = hourly_frame(state, time_zone)
    found_hours = anomalies.detect_hourly(hourly)
    items, menu = items_frame(state), menu_frame(state)
    recs = recommendations.menu_quadrants(items, menu) + recommendations.slow_movers(items, menu)
    # A closed tomorrow (forecast zero) needs no prep list.
    if len(revenue) and fc["points"] and fc["points"][0]["value"] > 0:
        tomorrow = revenue.index[-1] + pd.Timedelta(days=1)
        recs += recommendations.prep_quantities(items, revenue, tomorrow, fc["points"][0]["value"], menu)
    recs += recommendations.promotion_timing(hourly)
    return {
        "version": int(state.get("version", 0)),
        "trainedAt": now,
        "historyDays": len(daily),
        "forecast": fc,
        "anomalies": found_days,
        "hourlyAnomalies": found_hours,
        "recommendations": recommendations.rank(recs),
    }


def pricing_analysis(state: InsightsState, competitors: list[dict[str, Any]]) -> dict[str, Any]:
    items, names = items_frame(state), state.get("itemNames", {})
    daily_index = daily_frame(state).index
    results = []
    for entry in competitors:
        item_id = str(entry["itemId"])
        rows = items[items["itemId"] == item_id].set_index("day")[["quantity", "revenueVnd"]]
        rows = rows.reindex(daily_index, fill_value=0)
        prices = [int(p) for p in entry["pricesVnd"]]
        results.append(pricing.analyse_item(item_id, names.get(item_id, item_id), rows, prices))
    return {"items": results}


def warm_up() -> bool:
    """A tiny fit at start-up: imports done and code paths warm before the first real call."""
    series = pd.Series([10.0 + (i % 7) for i in range(28)], index=pd.date_range("2026-01-05", periods=28))
    forecast.predict(series, 7)
    return True


def to_json(value: Any) -> Any:
    """Last line of defence: numpy / pandas scalars become Python numbers (python-sdk#795)."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
