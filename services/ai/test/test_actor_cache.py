"""Warm actor calls answer from what they computed before, and only while it is current.

The actor runs through the Dapr SDK's own dispatch (ActorManager: argument decoding, the state
tracker, saving after the call, answer encoding); only the sidecar's actor state API is replaced
by a dictionary. Every cached answer is compared with the one a new actor instance computes from
the same stored state (nothing cached), and shown to change when orders are recorded, the model
is retrained or an owner acts.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from dapr.actor import ActorId
from dapr.actor.runtime._type_information import ActorTypeInformation
from dapr.actor.runtime.context import ActorRuntimeContext
from dapr.actor.runtime.manager import ActorManager
from dapr.serializers import DefaultJSONSerializer

from lsp_ai import actors, feedback, worker
from lsp_ai.actors import AnswerCache, LocationInsights
from lsp_ai.synthetic import generate_location, to_state

TENANT = "11111111-1111-4111-8111-111111111111"
LOCATION = "22222222-2222-4222-8222-222222222222"
SETTINGS = {"timeZone": "Asia/Ho_Chi_Minh", "cutoverHour": 4, "source": "auth"}
SERIALIZER = DefaultJSONSerializer()


class MemoryActorState:
    """The sidecar's actor state API, kept in a dictionary: values as the sidecar returns them."""

    def __init__(self, values: dict[str, str]) -> None:
        self.stored = {key: SERIALIZER.serialize(text) for key, text in values.items()}
        self.reads = 0

    async def get_state(self, actor_type: str, actor_id: str, name: str) -> bytes:
        self.reads += 1
        return self.stored.get(name, b"")

    async def save_state_transactionally(self, actor_type: str, actor_id: str, data: bytes) -> None:
        for op in json.loads(data):
            key = op["request"]["key"]
            if op["operation"] == "upsert":
                self.stored[key] = SERIALIZER.serialize(op["request"]["value"])
            else:
                self.stored.pop(key, None)

    async def register_reminder(self, *args: Any, **kwargs: Any) -> None:
        return None


def host(sidecar: MemoryActorState) -> Callable[[str, Any], Awaitable[Any]]:
    """A fresh actor host (nothing cached) over `sidecar`; returns `call(method, argument)`."""
    ctx = ActorRuntimeContext(
        ActorTypeInformation.create(LocationInsights),
        SERIALIZER,
        SERIALIZER,
        sidecar,  # type: ignore[arg-type]  # the state API's methods the actor runtime uses
    )
    manager = ActorManager(ctx)

    async def call(method: str, arg: Any) -> Any:
        # The edge sends the JS proxy's argument array; the event intake sends RecordOrders' JSON text.
        body = SERIALIZER.serialize(arg if isinstance(arg, str) else [arg])
        return json.loads(await manager.dispatch(ActorId(LOCATION), method, body))

    return call


@pytest.fixture(scope="module")
def trained() -> tuple[dict[str, Any], dict[str, Any]]:
    state: dict[str, Any] = to_state(generate_location(seed=8, days=70))
    state["tenantId"] = TENANT
    model = worker.run("train", state, SETTINGS["timeZone"], actors.MODEL_HORIZON_DAYS)
    model["version"] = state["version"]
    assert any(r["kind"] in feedback.MEASURED_KINDS for r in model["recommendations"])
    return state, model


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Model tasks run in this process (not the worker pool); the list says which ran."""
    ran: list[str] = []

    async def in_process(fn: Callable[..., Any], *args: Any) -> Any:
        ran.append(str(args[0]))
        return fn(*args)

    monkeypatch.setattr(actors, "run_cpu_bound", in_process)
    yield ran


def recorded_calls(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, record: Callable[..., str | None]
) -> list[str]:
    """Wraps `owner.name`: each call still goes through, and what `record` makes of its
    arguments (unless None) is appended to the returned list."""
    real = getattr(owner, name)
    seen: list[str] = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        what = record(*args, **kwargs)
        if what is not None:
            seen.append(what)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapped)
    return seen


def stored(
    state: dict[str, Any], model: dict[str, Any], fb: feedback.FeedbackState | None = None
) -> MemoryActorState:
    values = {
        actors.STATE_KEY: json.dumps(state),
        actors.MODEL_KEY: json.dumps(model),
        actors.SETTINGS_KEY: json.dumps(SETTINGS),
    }
    if fb is not None:
        values[actors.FEEDBACK_KEY] = json.dumps(fb)
    return MemoryActorState(values)


def an_order(state: dict[str, Any], business_day: str, item_id: str, event_id: str) -> dict[str, Any]:
    price = 50_000
    return {
        "eventId": event_id,
        "type": "order.created",
        "data": {
            "tenantId": TENANT,
            "locationId": LOCATION,
            "businessDay": business_day,
            "createdAt": f"{business_day}T05:00:00.000Z",
            "paymentMethod": "cash",
            "totalVnd": price,
            "lines": [
                {"itemId": item_id, "name": state["itemNames"][item_id], "quantity": 1, "unitPriceVnd": price}
            ],
        },
    }


def accepted_menu_change(model: dict[str, Any], business_day: str) -> feedback.FeedbackState:
    """An owner accepted one of the model's menu changes on `business_day`."""
    fb = feedback.empty_feedback()
    rec = next(r for r in model["recommendations"] if r["kind"] in feedback.MEASURED_KINDS)
    feedback.act(
        fb,
        model["recommendations"],
        rec["id"],
        "accepted",
        now=datetime.fromisoformat(f"{business_day}T05:00:00+00:00"),
        business_day=business_day,
        user_id=None,
        dismiss_reason=None,
    )
    return fb


Hosted = tuple[dict[str, Any], dict[str, Any], MemoryActorState, Callable[[str, Any], Awaitable[Any]]]


@pytest.fixture
def hosted(trained: tuple[dict[str, Any], dict[str, Any]]) -> Hosted:
    """The trained location's state in a fake sidecar, and a fresh actor host over it."""
    state, model = trained
    sidecar = stored(state, model)
    return state, model, sidecar, host(sidecar)


def test_a_warm_recommendations_answer_is_computed_once_and_equals_a_fresh_one(
    hosted: Hosted, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, model, sidecar, call = hosted
    validated = recorded_calls(monkeypatch, actors.contracts, "validate", lambda name, _answer: name)

    async def scenario() -> None:
        first = await call("Recommendations", {"tenantId": TENANT})
        reads = sidecar.reads
        again = [await call("Recommendations", {"tenantId": TENANT}) for _ in range(3)]
        assert again == [first] * 3
        assert validated == ["ai.answer.recommendations"]  # computed and checked once
        assert sidecar.reads == reads  # nothing loaded again
        assert first == await host(stored(state, model))("Recommendations", {"tenantId": TENANT})
        assert [i["id"] for i in first["items"]] == [r["id"] for r in model["recommendations"]]

    asyncio.run(scenario())


def test_warm_calls_parse_the_series_only_after_it_changed(
    hosted: Hosted, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, _model, sidecar, call = hosted
    real_loads = json.loads

    def the_series(s: Any, *_: Any, **__: Any) -> str | None:
        series = real_loads(sidecar.stored[actors.STATE_KEY])  # the stored JSON string: the text
        return "series" if isinstance(s, str) and s == series else None

    parsed = recorded_calls(monkeypatch, actors.json, "loads", the_series)
    reads = [
        ("Forecast", {"days": 7, "tenantId": TENANT}),
        ("Recommendations", {"tenantId": TENANT}),
        ("Anomalies", {"tenantId": TENANT}),
        ("GetSummary", {}),
    ]

    async def rounds() -> list[int]:
        """Series parses in each of three rounds of the read methods."""
        counts = []
        for _ in range(3):
            parsed.clear()
            for method, arg in reads:
                await call(method, arg)
            counts.append(len(parsed))
        return counts

    async def scenario() -> None:
        # The first round: the tenant and version, then once for each answer that reads the whole
        # series (recommendations, summary); warm rounds parse nothing.
        assert await rounds() == [3, 0, 0]
        item = next(iter(state["itemNames"]))
        await call("RecordOrders", json.dumps({"events": [an_order(state, max(state["days"]), item, "e-3")]}))
        # The new series: its tenant and version came with the write.
        assert await rounds() == [2, 0, 0]
        # Another tenant's caller is still refused on a warm call.
        with pytest.raises(actors.BadArgument, match="not found"):
            await call("Forecast", {"days": 7, "tenantId": "33333333-3333-4333-8333-333333333333"})

    asyncio.run(scenario())


def test_recording_orders_invalidates_the_answers_that_read_the_series(
    trained: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    state, model = trained
    days = sorted(state["days"])
    accepted_on = days[-20]
    fb = accepted_menu_change(model, accepted_on)
    item = fb["actions"][0]["itemId"]
    assert item is not None
    sidecar = stored(state, model, fb)
    call = host(sidecar)

    def measured(answer: dict[str, Any]) -> dict[str, Any]:
        (acted,) = [i for i in answer["items"] if i["status"] == "accepted"]
        return dict(acted["outcome"]["after"])

    async def scenario() -> None:
        before = await call("Recommendations", {"tenantId": TENANT})
        summary = await call("GetSummary", {})
        after_day = (date.fromisoformat(accepted_on) + timedelta(days=2)).isoformat()
        recorded = await call(
            "RecordOrders", json.dumps({"events": [an_order(state, after_day, item, "e-1")]})
        )
        assert recorded == {"results": [{"recorded": True}]}
        now = await call("Recommendations", {"tenantId": TENANT})
        assert measured(now)["units"] == measured(before)["units"] + 1
        assert now == await host(sidecar)("Recommendations", {"tenantId": TENANT})  # = fresh
        assert (await call("GetSummary", {}))["ordersSeen"] == summary["ordersSeen"] + 1
        # A redelivery records nothing, and the answer is the same.
        await call("RecordOrders", json.dumps({"events": [an_order(state, after_day, item, "e-1")]}))
        assert await call("Recommendations", {"tenantId": TENANT}) == now

    asyncio.run(scenario())


def test_a_retrain_and_an_owners_action_invalidate_the_recommendations(
    trained: tuple[dict[str, Any], dict[str, Any]], fits: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, model = trained
    old = model | {"version": state["version"] - 1, "trainedAt": "2026-01-01T00:00:00+00:00"}
    sidecar = stored(state, old)
    call = host(sidecar)

    async def scenario() -> None:
        monkeypatch.setattr(actors, "MODEL_MAX_AGE", timedelta(days=10_000))  # the old model is served
        served = await call("Recommendations", {"tenantId": TENANT})
        assert served["trainedAt"] == old["trainedAt"] and fits == []
        monkeypatch.setattr(actors, "MODEL_MAX_AGE", timedelta(0))  # now too old: the next call retrains
        retrained = await call("Recommendations", {"tenantId": TENANT})
        assert fits == ["train"] and retrained["trainedAt"] != old["trainedAt"]
        assert retrained == await host(sidecar)("Recommendations", {"tenantId": TENANT})
        # Dismissing one: it leaves the open list, and is listed as dismissed.
        target = retrained["items"][0]["id"]
        acted = await call(
            "ActOnRecommendation", {"id": target, "action": "dismissed", "reason": "không hợp"}
        )
        assert acted["result"] == "recorded"
        listed = await call("Recommendations", {"tenantId": TENANT})
        assert {i["id"]: i["status"] for i in listed["items"]}[target] == "dismissed"
        assert listed == await host(sidecar)("Recommendations", {"tenantId": TENANT})

    asyncio.run(scenario())


def test_an_item_forecast_is_fitted_once_per_series_and_arguments(
    trained: tuple[dict[str, Any], dict[str, Any]], fits: list[str]
) -> None:
    state, model = trained
    item = next(iter(state["itemNames"]))
    sidecar = stored(state, model)
    call = host(sidecar)

    async def scenario() -> None:
        arg = {"days": 7, "itemId": item, "tenantId": TENANT}
        first = await call("Forecast", arg)
        assert await call("Forecast", arg) == first and fits == ["item_forecast"]
        fresh = await host(sidecar)("Forecast", arg)
        assert fresh | {"trainedAt": None} == first | {"trainedAt": None}  # the same fit, another time
        await call("Forecast", arg | {"days": 5})  # other arguments: another fit
        assert fits == ["item_forecast"] * 3
        await call("RecordOrders", json.dumps({"events": [an_order(state, max(state["days"]), item, "e-2")]}))
        refitted = await call("Forecast", arg)
        assert fits == ["item_forecast"] * 4
        assert refitted["historyDays"] == first["historyDays"]  # same days, one more unit on the last
        # The location forecast comes from the model and is sliced per call.
        location = await call("Forecast", {"days": 3, "tenantId": TENANT})
        assert location["points"] == model["forecast"]["points"][:3] and fits == ["item_forecast"] * 4

    asyncio.run(scenario())


def test_the_cache_compares_texts_by_identity_arguments_by_value_and_honours_expiry() -> None:
    cache = AnswerCache(size=2)
    text = json.dumps({"a": 1})
    same_content = json.dumps({"a": 1})
    now = datetime(2026, 11, 30, tzinfo=UTC)
    cache.put("x", (text,), ("2026-11-30",), {"v": 1}, expires=now + timedelta(hours=1))
    assert cache.get("x", (text,), ("2026-11-30",), now) == {"v": 1}
    assert cache.get("x", (text,), ("2026-11-30",), now + timedelta(hours=1)) is None  # expired
    assert cache.get("x", (same_content,), ("2026-11-30",), now) is None  # another write, same content
    assert cache.get("x", (text,), ("2026-12-01",), now) is None  # another business day
    assert cache.get("x", (None,), ("2026-11-30",), now) is None
    cache.put("y", (None,), (), {"v": 2})
    cache.put("z", (None,), (), {"v": 3})  # over the size: the least recently used goes
    assert cache.get("x", (text,), ("2026-11-30",), now) is None
    assert cache.get("y", (None,), (), now) == {"v": 2}


def test_the_listing_changes_with_the_clock_only_when_an_action_leaves_its_window() -> None:
    now = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    recs = [
        {
            "id": f"slow_mover:{k}",
            "kind": "slow_mover",
            "title": "t",
            "priority": "high",
            "reason": "r",
            "evidence": [],
        }
        for k in "abcd"
    ]
    fb = feedback.empty_feedback()
    assert feedback.window_changes_at(fb, now) is None
    for k, days_ago in (("a", 59), ("b", 10)):
        at = now - timedelta(days=days_ago)
        feedback.act(
            fb,
            recs,
            f"slow_mover:{k}",
            "dismissed",
            now=at,
            business_day="2026-10-01",
            user_id=None,
            dismiss_reason="x",
        )
    changes = feedback.window_changes_at(fb, now)
    assert changes == now + timedelta(days=1)  # the 59-day-old dismissal leaves first
    just_before, after = changes - timedelta(seconds=1), changes + timedelta(seconds=1)
    assert feedback.open_recommendations(recs, fb, now) == feedback.open_recommendations(
        recs, fb, just_before
    )
    assert feedback.open_recommendations(recs, fb, after) != feedback.open_recommendations(
        recs, fb, just_before
    )
