"""Heavy-rain days told by owners and managers (`SetHeavyRain`, state key `weather`): checked
against the location's business day and tenant, kept sorted and bounded, shown by `Anomalies`,
and given to the anomaly model at training, so a labelled rainy day is not lost demand."""

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_actor_cache import (  # noqa: F401
    SETTINGS,
    TENANT,
    MemoryActorState,
    fits,
    host,
    recorded_calls,
    stored,
    trained,
)

from lsp_ai import actors, analysis, feedback
from lsp_ai.insights import InsightsState, empty_state

OTHER_TENANT = "33333333-3333-4333-8333-333333333333"


class RemindersSeen(MemoryActorState):
    """The fake sidecar, also keeping the names of the reminders the actor registers and the keys
    of every save (a write of the same content counts too)."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.reminders: list[str] = []
        self.due: list[str] = []  # each registration's due time, as the SDK sends it
        self.saved: list[str] = []

    async def register_reminder(self, actor_type: str, actor_id: str, name: str, data: bytes) -> None:
        self.reminders.append(name)
        self.due.append(json.loads(data)["dueTime"])

    async def save_state_transactionally(self, actor_type: str, actor_id: str, data: bytes) -> None:
        self.saved += [op["request"]["key"] for op in json.loads(data)]
        await super().save_state_transactionally(actor_type, actor_id, data)


TIME_ZONE, CUTOVER_HOUR = "Asia/Ho_Chi_Minh", 4
assert (SETTINGS["timeZone"], SETTINGS["cutoverHour"]) == (TIME_ZONE, CUTOVER_HOUR)


def _today() -> date:
    """The stored location's current business day."""
    return date.fromisoformat(feedback.business_day_of(datetime.now(UTC), TIME_ZONE, CUTOVER_HOUR))


def _once(sidecar: MemoryActorState, method: str, arg: Any) -> Any:
    """One call on a fresh actor host over `sidecar`."""

    async def ask() -> Any:
        return await host(sidecar)(method, arg)

    return asyncio.run(ask())


def _day(days_before_today: int) -> str:
    return (_today() - timedelta(days=days_before_today)).isoformat()


def _sidecar(
    state_and_model: tuple[dict[str, Any], dict[str, Any]], weather: list[str] | None = None
) -> RemindersSeen:
    state, model = state_and_model
    values = {
        actors.STATE_KEY: json.dumps(state),
        actors.MODEL_KEY: json.dumps(model),
        actors.SETTINGS_KEY: json.dumps(SETTINGS),
    }
    if weather is not None:
        values[actors.WEATHER_KEY] = json.dumps({"heavyRain": weather})
    return RemindersSeen(values)


def _weather(sidecar: MemoryActorState) -> list[str] | None:
    """The stored `weather` key's heavy-rain days (None: never written)."""
    raw = sidecar.stored.get(actors.WEATHER_KEY)
    return None if raw is None else list(json.loads(json.loads(raw))["heavyRain"])


def _rain(day: str, heavy: bool, tenant: str = TENANT) -> dict[str, Any]:
    return {"tenantId": tenant, "businessDay": day, "heavyRain": heavy, "userId": "u-1"}


def test_a_day_is_recorded_then_unchanged_then_cleared_and_only_a_change_retrains(
    trained: tuple[dict[str, Any], dict[str, Any]],  # noqa: F811
) -> None:
    sidecar = _sidecar(trained)
    call = host(sidecar)

    async def scenario() -> None:
        first = await call("SetHeavyRain", _rain(_day(3), True))
        assert first == {
            "result": "recorded",
            "message": None,
            "businessDay": _day(3),
            "heavyRain": True,
            "heavyRainDays": 1,
        }
        assert _weather(sidecar) == [_day(3)]
        assert sidecar.reminders == [actors.ONE_SHOT_REMINDER]  # the retrain, shortly
        assert sidecar.due == ["0h0m20s0ms0μs"]  # RETRAIN_AFTER_RAIN_MARK: each mark moves it
        # A later call for an earlier day: kept sorted.
        assert (await call("SetHeavyRain", _rain(_day(10), True)))["heavyRainDays"] == 2
        assert _weather(sidecar) == [_day(10), _day(3)]
        # The same again: nothing written, nothing scheduled.
        written = dict(sidecar.stored)
        again = await call("SetHeavyRain", _rain(_day(3), True))
        assert again["result"] == "unchanged" and again["heavyRainDays"] == 2
        assert sidecar.stored == written and len(sidecar.reminders) == 2
        # A dry day said to be dry: unchanged too.
        assert (await call("SetHeavyRain", _rain(_day(5), False)))["result"] == "unchanged"
        assert sidecar.saved == [actors.WEATHER_KEY] * 2  # the two changes only
        # Cleared: recorded, and retrained.
        cleared = await call("SetHeavyRain", _rain(_day(3), False))
        assert (cleared["result"], cleared["heavyRain"], cleared["heavyRainDays"]) == ("recorded", False, 1)
        assert _weather(sidecar) == [_day(10)]
        assert sidecar.reminders == [actors.ONE_SHOT_REMINDER] * 3
        # Today is a day one may label (the evening's storm), 400 days back too.
        assert (await call("SetHeavyRain", _rain(_day(0), True)))["result"] == "recorded"
        assert (await call("SetHeavyRain", _rain(_day(400), True)))["result"] == "recorded"
        assert _weather(sidecar) == [_day(400), _day(10), _day(0)]

    asyncio.run(scenario())


def test_days_out_of_range_and_locations_without_history_are_refused_and_write_nothing(
    trained: tuple[dict[str, Any], dict[str, Any]],  # noqa: F811
) -> None:
    sidecar = _sidecar(trained, weather=[_day(7)])
    call = host(sidecar)
    written = dict(sidecar.stored)

    async def scenario() -> None:
        for day in (_day(-1), _day(401)):  # tomorrow; older than 400 days
            answer = await call("SetHeavyRain", _rain(day, True))
            assert answer["result"] == "refused" and answer["businessDay"] == day, answer
            assert isinstance(answer["message"], str) and answer["message"], answer
            assert answer["heavyRainDays"] == 1  # what the location has: unchanged
        assert (
            "after the current business day"
            in (await call("SetHeavyRain", _rain(_day(-1), False)))["message"]
        )
        # A location nobody has sold at: no tenant to check the caller against.
        empty = RemindersSeen({})
        answer = await host(empty)("SetHeavyRain", _rain(_day(1), True))
        assert (answer["result"], answer["heavyRainDays"]) == ("refused", 0)
        assert "no orders" in answer["message"]
        assert empty.stored == {} and empty.saved == [] and empty.reminders == []

    asyncio.run(scenario())
    assert sidecar.stored == written and sidecar.saved == [] and sidecar.reminders == []


@pytest.mark.parametrize(
    "arg",
    [
        {"businessDay": "2026-11-20", "heavyRain": True},  # no tenant
        {"tenantId": "", "businessDay": "2026-11-20", "heavyRain": True},
        {"tenantId": TENANT, "heavyRain": True},  # no day
        {"tenantId": TENANT, "businessDay": "20261120", "heavyRain": True},
        {"tenantId": TENANT, "businessDay": "2026-11-20T10:00:00Z", "heavyRain": True},  # a timestamp
        {"tenantId": TENANT, "businessDay": 20261120, "heavyRain": True},
        {"tenantId": TENANT, "businessDay": "2026-11-20"},  # no flag
        {"tenantId": TENANT, "businessDay": "2026-11-20", "heavyRain": "true"},
        {"tenantId": TENANT, "businessDay": "2026-11-20", "heavyRain": 1},
    ],
)
def test_a_malformed_argument_is_a_bad_argument(
    trained: tuple[dict[str, Any], dict[str, Any]],  # noqa: F811
    arg: dict[str, Any],
) -> None:
    sidecar = _sidecar(trained)
    with pytest.raises(actors.BadArgument):
        _once(sidecar, "SetHeavyRain", arg)
    assert _weather(sidecar) is None and sidecar.reminders == []


def test_an_impossible_date_is_refused_by_the_sdks_decoder_before_the_method_runs(
    trained: tuple[dict[str, Any], dict[str, Any]],  # noqa: F811
) -> None:
    # The SDK parses date-like strings of the argument (dateutil): not a BadArgument, still an error.
    sidecar = _sidecar(trained)
    with pytest.raises(ValueError, match="day is out of range"):
        _once(sidecar, "SetHeavyRain", _rain("2026-11-31", True))
    assert _weather(sidecar) is None and sidecar.reminders == []


def test_another_tenants_caller_is_refused_as_by_the_other_methods(
    trained: tuple[dict[str, Any], dict[str, Any]],  # noqa: F811
) -> None:
    sidecar = _sidecar(trained)
    with pytest.raises(actors.BadArgument, match="not found"):
        _once(sidecar, "SetHeavyRain", _rain(_day(2), True, tenant=OTHER_TENANT))
    assert _weather(sidecar) is None and sidecar.reminders == []


def test_days_older_than_400_days_are_dropped_on_the_next_write(
    trained: tuple[dict[str, Any], dict[str, Any]],  # noqa: F811
) -> None:
    # Labelled long ago, when they were recent: they age out of the window.
    sidecar = _sidecar(trained, weather=[_day(500), _day(401), _day(20)])
    answer = _once(sidecar, "SetHeavyRain", _rain(_day(4), True))
    assert (answer["result"], answer["heavyRainDays"]) == ("recorded", 2)
    assert _weather(sidecar) == [_day(20), _day(4)]


def test_anomalies_show_the_current_heavy_rain_days_within_from_and_to(
    trained: tuple[dict[str, Any], dict[str, Any]],  # noqa: F811
) -> None:
    sidecar = _sidecar(trained, weather=[_day(30), _day(12), _day(5)])
    call = host(sidecar)

    async def scenario() -> None:
        whole = await call("Anomalies", {"tenantId": TENANT})
        assert whole["heavyRainDays"] == [_day(30), _day(12), _day(5)]
        window = {"tenantId": TENANT, "from": _day(12), "to": _day(6)}
        assert (await call("Anomalies", window))["heavyRainDays"] == [_day(12)]
        # A label given now shows at once on the same (warm) actor, before any retrain.
        await call("SetHeavyRain", _rain(_day(8), True))
        assert (await call("Anomalies", window))["heavyRainDays"] == [_day(12), _day(8)]
        assert await call("Anomalies", window) == await host(sidecar)("Anomalies", window)  # = fresh
        await call("SetHeavyRain", _rain(_day(12), False))
        assert (await call("Anomalies", window))["heavyRainDays"] == [_day(8)]
        # A location nobody labelled: an empty list.
        plain = await host(stored(*trained))("Anomalies", {"tenantId": TENANT})
        assert plain["heavyRainDays"] == []

    asyncio.run(scenario())


def test_training_gives_the_labelled_days_to_the_model(
    trained: tuple[dict[str, Any], dict[str, Any]],  # noqa: F811
    fits: list[str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state, model = trained
    rainy = sorted(state["days"])[-20:-10:2]
    old = model | {"version": state["version"] - 1, "trainedAt": "2026-01-01T00:00:00+00:00"}
    sidecar = _sidecar((state, old), weather=rainy)
    given = recorded_calls(
        monkeypatch,
        analysis,
        "train",
        lambda *args, **kwargs: json.dumps(list(args[5]) if len(args) > 5 else []),
    )
    monkeypatch.setattr(actors, "MODEL_MAX_AGE", timedelta(0))  # the stored model is too old: retrain
    answer = _once(sidecar, "Anomalies", {"tenantId": TENANT})
    assert fits == ["train"] and answer["trainedAt"] != old["trainedAt"]
    assert [json.loads(g) for g in given] == [rainy]


# A location's daily figures for `analysis.train`: 60 days from a Monday, a weekly pattern, 5 %
# noise; six heavy-rain days after the warm-up (one on each weekday but Sunday, so no weekday's
# median is made of rain) take 40 % of the trade; one dry day loses half of it.
START = date(2026, 9, 7)
WEEKLY = (1.0, 0.9, 0.95, 1.0, 1.2, 1.5, 1.4)
RAINY = (15, 23, 31, 39, 47, 55)
BAD_DRY_DAY = 42


def _iso(i: int) -> str:
    return (START + timedelta(days=i)).isoformat()


def _rainy_location(seed: int = 0) -> InsightsState:
    rng = np.random.default_rng(seed)
    state = empty_state() | {"tenantId": TENANT, "version": 60}
    for i in range(60):
        level = WEEKLY[(START + timedelta(days=i)).weekday()] * rng.normal(1.0, 0.05)
        level *= 0.6 if i in RAINY else 0.5 if i == BAD_DRY_DAY else 1.0
        orders = max(1, round(100 * level))  # rain keeps people home: fewer orders, same ticket
        state["days"][_iso(i)] = {
            "revenueVnd": orders * 60_000,
            "orders": orders,
            "voids": 0,
            "payments": {"cash": orders // 3, "momo": orders - orders // 3},
            "items": {},
        }
    return state


def _below_forecast(model: dict[str, Any]) -> set[str]:
    return {a["businessDay"] for a in model["anomalies"] if a["kind"] == "revenue_below_forecast"}


def _flagged(model: dict[str, Any]) -> set[str]:
    return {a["businessDay"] for a in model["anomalies"]}


def test_labelled_heavy_rain_days_are_not_flagged_and_a_bad_dry_day_still_is() -> None:
    """Ten locations (seeds 0-9), six labelled rainy days each."""
    rainy = [_iso(i) for i in RAINY]
    flagged_rainy: list[dict[str, Any]] = []
    for seed in range(10):
        state = _rainy_location(seed)
        unlabelled = analysis.train(state, TIME_ZONE, 14, now_iso="2026-11-06T00:00:00+00:00")
        labelled = analysis.train(
            state, TIME_ZONE, 14, now_iso="2026-11-06T00:00:00+00:00", heavy_rain_days=rainy
        )
        # Unlabelled, the rain reads as lost demand.
        assert set(rainy) <= _below_forecast(unlabelled), seed
        flagged_rainy += [a for a in labelled["anomalies"] if a["businessDay"] in rainy]
        # A genuinely bad dry day is flagged either way.
        assert _iso(BAD_DRY_DAY) in _below_forecast(unlabelled), seed
        assert _iso(BAD_DRY_DAY) in _below_forecast(labelled), seed
        # The forecast does not use the weather.
        assert labelled["forecast"] == unlabelled["forecast"]
    # Labelled, a rainy day is measured against rain's estimated effect, in revenue and in orders
    # alike. Only a rainy day quieter than rain explains is still lost demand (1 of the 60 here,
    # at -2.6 robust sigma); none is "unusual" (before orders were measured against their weather
    # too, the forest called all 60 unusual_day).
    assert len(flagged_rainy) <= 2, flagged_rainy
    assert all(a["kind"] == "revenue_below_forecast" for a in flagged_rainy), flagged_rainy


def test_the_rain_column_marks_only_the_labelled_days() -> None:
    daily = analysis.daily_frame(_rainy_location())
    assert "rain" not in analysis.with_rain(daily, [])  # no labels: the model's plain threshold
    marked = analysis.with_rain(daily, [_iso(15), _iso(23), "2020-01-01"])  # one outside the series
    assert list(pd.DatetimeIndex(marked.index[marked["rain"]]).strftime("%Y-%m-%d")) == [_iso(15), _iso(23)]
    assert "rain" not in daily  # the caller's frame is left as it was
