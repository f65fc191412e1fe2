import json
from datetime import UTC, datetime, timedelta

from lsp_ai import worker
from lsp_ai.actors import next_retrain_delay
from lsp_ai.events import contracts, findings_to_events
from lsp_ai.forecast import REGULAR
from lsp_ai.insights import empty_state, record_order, record_void
from lsp_ai.synthetic import generate_location, to_state

TENANT = "11111111-1111-4111-8111-111111111111"
LOCATION = "22222222-2222-4222-8222-222222222222"
SETTINGS = {"timeZone": "Asia/Ho_Chi_Minh", "cutoverHour": 4, "source": "auth"}


def test_the_daily_retrain_is_due_just_after_the_next_cutover_on_the_location_clock() -> None:
    # 2026-11-23 20:00 UTC = 03:00 on the 24th in Vietnam: cut-over (04:00) + 15 min is 1 h 15 min away.
    now = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    assert next_retrain_delay(now, "Asia/Ho_Chi_Minh", 4) == timedelta(hours=1, minutes=15)
    # Just after it: the next one is a day later.
    later = now + timedelta(hours=1, minutes=16)
    assert next_retrain_delay(later, "Asia/Ho_Chi_Minh", 4) == timedelta(hours=23, minutes=59)


def test_a_trained_model_is_plain_json_and_its_findings_match_the_shared_contracts() -> None:
    loc = generate_location(seed=5, days=90)
    model = worker.run("train", to_state(loc), "Asia/Ho_Chi_Minh", 14)
    assert json.loads(json.dumps(model)) == model  # nothing numpy or pandas left
    assert model["forecast"]["method"] in REGULAR  # chosen by the backtest among the regular candidates
    assert len(model["forecast"]["points"]) == 14
    # Make the newest anomaly recent, as the daily retrain would see it the morning after.
    model["anomalies"].append(
        {**model["anomalies"][0], "businessDay": loc.daily.index[-1].date().isoformat()}
    )
    events = findings_to_events(LOCATION, TENANT, SETTINGS, model, datetime.now(UTC))
    kinds = {t for _, t, _ in events}
    assert kinds == {"ai.anomaly.detected", "ai.recommendation.created"}
    for _, event_type, data in events:
        assert contracts.validate(event_type, data) == data
    assert all(d["kind"] != "prep_quantity" for _, t, d in events if t == "ai.recommendation.created")
    # Old anomalies are history: only the recent one is published.
    days = {d["businessDay"] for _, t, d in events if t == "ai.anomaly.detected"}
    assert days <= {(loc.daily.index[-1] - timedelta(days=k)).date().isoformat() for k in range(3)}


def test_voids_and_orders_feed_the_series_once_each() -> None:
    state = empty_state()
    order = {
        "tenantId": TENANT,
        "businessDay": "2026-11-21",
        "createdAt": "2026-11-21T10:15:00+07:00",
        "paymentMethod": "momo",
        "totalVnd": 60000,
        "lines": [{"itemId": "i1", "name": "Phở", "quantity": 1, "unitPriceVnd": 60000}],
    }
    assert record_order(state, "o1", order)
    assert not record_order(state, "o1", order)
    assert record_void(state, "v1", {"tenantId": TENANT, "businessDay": "2026-11-21", "totalVnd": 60000})
    assert not record_void(state, "v1", {"tenantId": TENANT, "businessDay": "2026-11-21", "totalVnd": 60000})
    day = state["days"]["2026-11-21"]
    assert (day["orders"], day["voids"], day["payments"], day["items"]) == (
        1,
        1,
        {"momo": 1},
        {"i1": [1, 60000]},
    )
    assert "2026-11-21T03" in state["hours"]  # 10:15 in Vietnam is 03:15 UTC
    assert state["version"] == 2


def test_pricing_through_the_worker_says_when_the_price_response_is_unknown() -> None:
    state = to_state(generate_location(seed=6, days=60))
    item = next(iter(state["itemNames"]))
    result = worker.run("pricing", state, [{"itemId": item, "pricesVnd": [10000, 12000]}])
    (row,) = result["items"]
    assert row["move"] == "lower"
    assert row["priceResponse"]["estimated"] is False
    assert "price level" in row["priceResponse"]["note"]
    assert row["expectedRevenueEffectVndPerDay"] is None


def test_a_dead_fit_worker_is_replaced() -> None:
    import asyncio
    import os
    import signal

    from lsp_ai import insights
    from lsp_ai.insights import run_cpu_bound

    async def scenario() -> int:
        first = await run_cpu_bound(os.getpid)
        os.kill(first, signal.SIGKILL)
        await asyncio.sleep(0.5)
        return await run_cpu_bound(os.getpid)

    try:
        assert asyncio.run(scenario()) != os.getpid()  # answered by a new worker process
    finally:
        insights._pool.pop().shutdown(wait=True)
