"""Pure state logic of a location's insights (no Dapr): what the actor keeps and how it changes."""

import asyncio
from collections.abc import Callable
from typing import Any, TypedDict, TypeVar

MAX_SEEN_EVENTS = 5000

T = TypeVar("T")


class DayFigures(TypedDict):
    revenueVnd: int
    orders: int


class InsightsState(TypedDict):
    days: dict[str, DayFigures]
    hours: dict[str, DayFigures]
    seen: list[str]
    lastEventAt: str | None


def empty_state() -> InsightsState:
    return {"days": {}, "hours": {}, "seen": [], "lastEventAt": None}


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


def record_order(state: InsightsState, event_id: str, order: dict[str, Any]) -> bool:
    """Adds an order.created payload once per event id; returns False for a redelivery."""
    if event_id in state["seen"]:
        return False
    total = int(order["totalVnd"])
    day = state["days"].setdefault(order["businessDay"], {"revenueVnd": 0, "orders": 0})
    day["revenueVnd"] += total
    day["orders"] += 1
    hour_key = str(order["createdAt"])[:13]  # YYYY-MM-DDTHH (UTC)
    hour = state["hours"].setdefault(hour_key, {"revenueVnd": 0, "orders": 0})
    hour["revenueVnd"] += total
    hour["orders"] += 1
    state["seen"].append(event_id)
    del state["seen"][:-MAX_SEEN_EVENTS]
    state["lastEventAt"] = str(order["createdAt"])
    return True


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


async def run_cpu_bound(fn: Callable[..., T], *args: Any) -> T:
    """Model fitting and scoring run off the event loop so one fit never stalls every actor."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
