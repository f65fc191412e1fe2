"""The weekdays an owner declares closed (auth's `closedWeekdays`): read from auth's answer,
forecast as closures with or without history, merged with the inferred ones, and asked again
at every daily retrain."""

import asyncio
import json
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from dapr.actor import ActorId
from dapr.actor.runtime._type_information import ActorTypeInformation
from dapr.actor.runtime.context import ActorRuntimeContext
from dapr.actor.runtime.manager import ActorManager
from dapr.serializers import DefaultJSONSerializer
from test_actor_cache import LOCATION, SETTINGS, TENANT, MemoryActorState, fits, stored, trained  # noqa: F401
from test_actor_cache import host as actor_host

from lsp_ai import actors, events
from lsp_ai.actors import LocationInsights
from lsp_ai.events import WEEKDAYS, closed_weekdays_of, location_of_tenant
from lsp_ai.forecast import closed_weekdays, forecast, predict
from lsp_ai.synthetic import generate_location

MONDAY, WEDNESDAY, SUNDAY = 0, 2, 6


def test_the_weekday_names_are_the_contracts_monday_first() -> None:
    assert WEEKDAYS[MONDAY] == "MONDAY" and WEEKDAYS[SUNDAY] == "SUNDAY" and len(WEEKDAYS) == 7
    assert pd.Timestamp("2026-11-30").weekday() == MONDAY  # the numbers are Python's weekday()
    assert closed_weekdays_of(["SUNDAY", "MONDAY"]) == [MONDAY, SUNDAY]
    assert closed_weekdays_of(None) == []
    with pytest.raises(ValueError):
        closed_weekdays_of(["LUNDI"])


def _auth(body: Any) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, json=body))


def test_auths_answer_carries_the_closed_weekdays_into_the_settings() -> None:
    answer = {"id": LOCATION, "tenantId": TENANT, "timeZone": "Asia/Ho_Chi_Minh", "cutoverHour": 4}
    closed = answer | {"closedWeekdays": ["WEDNESDAY", "MONDAY"]}
    found = asyncio.run(location_of_tenant(LOCATION, TENANT, _auth(closed)))
    assert found is not None and found["closedWeekdays"] == [MONDAY, WEDNESDAY]
    older = asyncio.run(location_of_tenant(LOCATION, TENANT, _auth(answer)))  # an auth before the field
    assert older is not None and older["closedWeekdays"] == []
    with pytest.raises(events.AuthUnavailable):  # a name auth should never send: asked again later
        asyncio.run(location_of_tenant(LOCATION, TENANT, _auth(closed | {"closedWeekdays": ["X"]})))


def _short(days: int, start: str = "2026-11-02") -> pd.Series:
    """A new location: `days` days of steady trade, every day open (it opened on a Monday)."""
    index = pd.date_range(start, periods=days, freq="D")
    noise = np.random.default_rng(days).normal(1, 0.05, days)
    return pd.Series(5_000_000.0 * noise, index=index)


@pytest.mark.parametrize("days", [0, 3, 10, 18, 25])
def test_a_new_location_closed_on_mondays_is_forecast_zero_on_mondays(days: int) -> None:
    history = _short(days) if days else pd.Series([], dtype=float, index=pd.DatetimeIndex([]))
    if days == 0:
        # No history at all: nothing to forecast from; declared days change nothing there.
        assert all(p["value"] == 0 for p in forecast(history, 7, declared=[MONDAY])["points"])
        return
    plain = forecast(history, 14, with_backtest=False)
    fc = forecast(history, 14, with_backtest=False, declared=[MONDAY])
    for p, q in zip(fc["points"], plain["points"], strict=True):
        if pd.Timestamp(p["day"]).weekday() == MONDAY:
            assert (p["value"], p["lower"], p["upper"]) == (0, 0, 0), p
            assert q["value"] > 0  # the check can fail: undeclared, Mondays are forecast open
        else:
            assert p["value"] > 0, p


def test_a_few_days_with_a_closed_monday_average_the_open_days_only() -> None:
    history = _short(5, start="2026-11-29")  # Sunday, Monday (closed, zero), Tuesday …
    history.iloc[1] = 0.0
    fc = predict(history, 7, declared=[MONDAY])
    open_days = [
        v for d, v in zip(pd.date_range("2026-12-04", periods=7), fc["mean"], strict=True) if d.weekday()
    ]
    assert open_days == pytest.approx([float(history.iloc[[0, 2, 3, 4]].mean())] * 6)


def test_declared_days_are_merged_with_the_inferred_ones() -> None:
    loc = generate_location(seed=41, days=84, anomaly_days=0)
    revenue = loc.daily["revenueVnd"].astype(float)
    revenue[pd.DatetimeIndex(revenue.index).day_of_week == SUNDAY] = 0.0  # a day off seen in the data
    assert closed_weekdays(revenue) == {SUNDAY}
    assert closed_weekdays(revenue, declared=[WEDNESDAY]) == {SUNDAY, WEDNESDAY}
    fc = forecast(revenue, 14, declared=[WEDNESDAY])
    by_weekday = {pd.Timestamp(p["day"]).weekday(): p["value"] for p in fc["points"]}
    assert by_weekday[SUNDAY] == 0 and by_weekday[WEDNESDAY] == 0
    assert all(v > 0 for d, v in by_weekday.items() if d not in (SUNDAY, WEDNESDAY))


def test_a_declared_days_zeros_are_closures_not_slow_demand_of_an_intermittent_series() -> None:
    # A slow item (about one sale a day, many zero days); the shop is closed on Mondays.
    rng = np.random.default_rng(7)
    index = pd.date_range("2026-08-03", periods=12 * 7, freq="D")
    units = rng.poisson(1.2, len(index)).astype(float)
    units[index.day_of_week == MONDAY] = 0.0
    history = pd.Series(units, index=index)
    open_rate = float(units[index.day_of_week != MONDAY].mean())
    declared = forecast(history, 7, declared=[MONDAY], with_backtest=False)
    undeclared = forecast(history, 7, with_backtest=False)
    open_points = [p for p in declared["points"] if pd.Timestamp(p["day"]).weekday() != MONDAY]
    week = sum(p["value"] for p in open_points)
    # Closed Mondays no longer dilute the rate of the six open days.
    assert week > sum(p["value"] for p in undeclared["points"] if pd.Timestamp(p["day"]).weekday() != MONDAY)
    assert week == pytest.approx(6 * open_rate, rel=0.35)


def _forecast(sidecar: MemoryActorState, arg: dict[str, Any]) -> dict[str, Any]:
    """The actor's Forecast from a fresh host over `sidecar` (nothing cached in it)."""

    async def ask() -> dict[str, Any]:
        answer: dict[str, Any] = await actor_host(sidecar)("Forecast", arg)
        return answer

    return asyncio.run(ask())


def _reminder(sidecar: MemoryActorState) -> None:
    """The daily-retrain reminder, fired through the SDK's dispatch as the sidecar fires it."""
    serializer = DefaultJSONSerializer()
    ctx = ActorRuntimeContext(
        ActorTypeInformation.create(LocationInsights),
        serializer,
        serializer,
        sidecar,  # type: ignore[arg-type]
    )
    body = json.dumps({"data": "", "dueTime": "0h0m0s", "period": "24h0m0s"}).encode()
    asyncio.run(ActorManager(ctx).fire_reminder(ActorId(LOCATION), actors.DAILY_REMINDER, body))


def test_the_daily_retrain_asks_auth_again_and_forecasts_the_new_days_closed(
    trained: tuple[dict[str, Any], dict[str, Any]],  # noqa: F811
    fits: list[str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state, model = trained
    sidecar = stored(state, model)
    answers = [SETTINGS | {"closedWeekdays": [WEDNESDAY]}]
    asked: list[str] = []

    async def auth(location_id: str, tenant_id: str | None) -> dict[str, Any]:
        asked.append(location_id)
        return answers[-1]

    async def publish(*args: Any) -> list[str]:
        return []

    monkeypatch.setattr(actors, "ensure_settings", auth)
    monkeypatch.setattr(actors, "publish_findings", publish)

    def wednesdays(fc: dict[str, Any]) -> list[float]:
        return [p["value"] for p in fc["points"] if pd.Timestamp(p["day"]).weekday() == WEDNESDAY]

    before = _forecast(sidecar, {"days": 14, "tenantId": TENANT})
    assert all(v > 0 for v in wednesdays(before)) and asked == []  # a read never asks auth
    _reminder(sidecar)
    assert asked == [LOCATION] and fits == ["train"]
    assert json.loads(json.loads(sidecar.stored[actors.SETTINGS_KEY]))["closedWeekdays"] == [WEDNESDAY]
    after = _forecast(sidecar, {"days": 14, "tenantId": TENANT})
    assert wednesdays(after) == [0, 0]
    item = next(iter(state["itemNames"]))
    units = _forecast(sidecar, {"days": 14, "itemId": item, "tenantId": TENANT})
    assert wednesdays(units) == [0, 0]  # per-item forecasts too
    # Open again: the next retrain takes it back; auth unreachable (defaults) keeps what is stored.
    answers.append(SETTINGS | {"closedWeekdays": []})
    _reminder(sidecar)
    reopened = _forecast(sidecar, {"days": 14, "tenantId": TENANT})
    assert all(v > 0 for v in wednesdays(reopened))
    answers.append(events.DEFAULT_SETTINGS | {"closedWeekdays": [MONDAY]})
    _reminder(sidecar)
    kept = json.loads(json.loads(sidecar.stored[actors.SETTINGS_KEY]))
    assert kept["closedWeekdays"] == [] and kept["source"] == "auth"


class RemindersSeen(MemoryActorState):
    """The fake sidecar, also keeping the names of the reminders the actor registers."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.reminders: list[str] = []

    async def register_reminder(self, actor_type: str, actor_id: str, name: str, *args: Any) -> None:
        self.reminders.append(name)


def _settings_changed(sidecar: MemoryActorState, tenant_id: str) -> dict[str, Any]:
    async def ask() -> dict[str, Any]:
        answer: dict[str, Any] = await actor_host(sidecar)("SettingsChanged", {"tenantId": tenant_id})
        return answer

    return asyncio.run(ask())


def test_location_changed_retrains_at_once_a_location_with_history_of_that_tenant(
    trained: tuple[dict[str, Any], dict[str, Any]],  # noqa: F811
) -> None:
    state, model = trained
    sidecar = RemindersSeen(
        {
            actors.STATE_KEY: json.dumps(state),
            actors.MODEL_KEY: json.dumps(model),
            actors.SETTINGS_KEY: json.dumps(SETTINGS),
        }
    )
    assert _settings_changed(sidecar, TENANT) == {"retrain": True}
    assert sidecar.reminders == [actors.ONE_SHOT_REMINDER]
    # Another tenant's event names this location: refused, nothing scheduled.
    assert _settings_changed(sidecar, "00000000-0000-4000-8000-000000000000") == {
        "retrain": False,
        "rejected": "tenant-mismatch",
    }
    assert sidecar.reminders == [actors.ONE_SHOT_REMINDER]
    # A location nobody has sold at yet: nothing to retrain (its first event asks auth anyway).
    empty = RemindersSeen({})
    assert _settings_changed(empty, TENANT) == {"retrain": False}
    assert empty.reminders == [] and empty.stored == {}
