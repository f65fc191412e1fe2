"""Pure state logic of a location's insights (no Dapr): what the actor keeps and how it changes."""

import asyncio
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from multiprocessing import get_context
from typing import Any, TypedDict, TypeVar

MAX_SEEN_EVENTS = 5000
MAX_DAYS = 400
MAX_HOURS = 24 * 90

T = TypeVar("T")


class DayFigures(TypedDict, total=False):
    revenueVnd: int
    orders: int
    voids: int
    voidedVnd: int
    payments: dict[str, int]
    items: dict[str, list[int]]  # itemId -> [units, revenue VND]


class HourFigures(TypedDict):
    revenueVnd: int
    orders: int


class InsightsState(TypedDict, total=False):
    tenantId: str | None
    days: dict[str, DayFigures]
    hours: dict[str, HourFigures]  # key: UTC hour, YYYY-MM-DDTHH
    itemNames: dict[str, str]
    seen: list[str]
    lastEventAt: str | None
    version: int  # bumped by every recorded event; a fitted model remembers the version it saw


def empty_state() -> InsightsState:
    return {
        "tenantId": None,
        "days": {},
        "hours": {},
        "itemNames": {},
        "seen": [],
        "lastEventAt": None,
        "version": 0,
    }


def single_argument(arg: Any) -> dict[str, Any]:
    """Actor methods take one argument. The JS SDK's actor proxy sends the call's arguments as a
    JSON array ([] or [x]); Python callers send x itself. Both become x (or {})."""
    if isinstance(arg, list):
        arg = arg[0] if arg else {}
    if arg is None:
        return {}
    if not isinstance(arg, dict):
        raise TypeError(f"expected an object argument, got {type(arg).__name__}")
    return arg


def _claim(state: InsightsState, event_id: str) -> bool:
    seen = state.setdefault("seen", [])
    if event_id in seen:
        return False
    seen.append(event_id)
    del seen[:-MAX_SEEN_EVENTS]
    state["version"] = int(state.get("version", 0)) + 1
    return True


def _trim(mapping: dict[str, Any], keep: int) -> None:
    if len(mapping) > keep:
        for key in sorted(mapping)[: len(mapping) - keep]:
            del mapping[key]


def _day(state: InsightsState, business_day: str) -> DayFigures:
    day = state.setdefault("days", {}).setdefault(business_day, {"revenueVnd": 0, "orders": 0})
    for key in ("voids", "voidedVnd"):
        day.setdefault(key, 0)  # type: ignore[misc]
    day.setdefault("payments", {})
    day.setdefault("items", {})
    return day


LocationLookup = Callable[[str, str], Awaitable[dict[str, Any] | None]]


async def admit_event(
    state: InsightsState, location_id: str, tenant_id: str, lookup: LocationLookup
) -> str | dict[str, Any] | None:
    """Whether an order event's claims hold before it touches the series: its tenant must be the
    one the location's series belongs to; a location's first event is checked with auth (lookup:
    the location's settings when it is that tenant's, None when it is not; it raises when auth
    cannot answer, and the event is retried). Returns the reason to reject ("tenant-mismatch",
    "unknown-location"), auth's settings (first event), or None (known tenant)."""
    owner = state.get("tenantId")
    if owner is not None:
        return None if owner == tenant_id else "tenant-mismatch"
    settings = await lookup(location_id, tenant_id)
    return "unknown-location" if settings is None else settings


def record_order(state: InsightsState, event_id: str, order: dict[str, Any]) -> bool:
    """Adds an order.created payload once per event id; returns False for a redelivery."""
    if not _claim(state, event_id):
        return False
    state["tenantId"] = str(order["tenantId"]) if "tenantId" in order else state.get("tenantId")
    total = int(order["totalVnd"])
    day = _day(state, order["businessDay"])
    day["revenueVnd"] += total
    day["orders"] += 1
    method = str(order.get("paymentMethod", "unknown"))
    day["payments"][method] = day["payments"].get(method, 0) + 1
    names = state.setdefault("itemNames", {})
    for line in order.get("lines", []):
        item_id = str(line["itemId"])
        units, revenue = day["items"].get(item_id, [0, 0])
        qty = int(line["quantity"])
        day["items"][item_id] = [units + qty, revenue + qty * int(line["unitPriceVnd"])]
        names[item_id] = str(line["name"])
    hour_key = _utc_hour(str(order["createdAt"]))
    hour = state.setdefault("hours", {}).setdefault(hour_key, {"revenueVnd": 0, "orders": 0})
    hour["revenueVnd"] += total
    hour["orders"] += 1
    _trim(state["days"], MAX_DAYS)
    _trim(state["hours"], MAX_HOURS)
    state["lastEventAt"] = str(order["createdAt"])
    return True


def record_void(state: InsightsState, event_id: str, voided: dict[str, Any]) -> bool:
    """Adds an order.voided payload once per event id (void rate is an anomaly feature)."""
    if not _claim(state, event_id):
        return False
    state["tenantId"] = str(voided["tenantId"]) if "tenantId" in voided else state.get("tenantId")
    day = _day(state, voided["businessDay"])
    day["voids"] += 1
    day["voidedVnd"] += int(voided["totalVnd"])
    return True


def _utc_hour(timestamp: str) -> str:
    """YYYY-MM-DDTHH in UTC, whatever offset the timestamp carries."""
    parsed = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H")


def summary(location_id: str, state: InsightsState) -> dict[str, Any]:
    """Plain-JSON summary (ints and strings only, whatever numeric types the state holds)."""
    days = [
        {"businessDay": d, "revenueVnd": int(f["revenueVnd"]), "orders": int(f["orders"])}
        for d, f in sorted(state["days"].items())
    ]
    return {
        "locationId": location_id,
        "ordersSeen": sum(d["orders"] for d in days),
        "revenueVnd": sum(d["revenueVnd"] for d in days),
        "days": days,
        "lastEventAt": state["lastEventAt"],
    }


_pool: list[ProcessPoolExecutor] = []


def fit_pool() -> ProcessPoolExecutor:
    """Worker processes for fitting: statsmodels and scikit-learn hold the GIL for much of a fit,
    so threads would still stall the event loop that serves every actor; processes do not."""
    if not _pool:
        workers = int(os.environ.get("AI_FIT_WORKERS", "1"))
        _pool.append(ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")))
    return _pool[0]


async def run_cpu_bound(fn: Callable[..., T], *args: Any) -> T:
    """Model fitting and scoring run off the event loop so one fit never stalls every actor.
    A worker that died (out of memory, killed) breaks its pool: start a new one and retry once."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(fit_pool(), fn, *args)
    except BrokenProcessPool:
        _pool.pop().shutdown(wait=False, cancel_futures=True)
        return await loop.run_in_executor(fit_pool(), fn, *args)
