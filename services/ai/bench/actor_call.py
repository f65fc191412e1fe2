"""Bench: a warm actor call inside the Python host, through the Dapr SDK's own dispatch (argument
decoding, state tracker, save after the call, answer encoding) with the sidecar's actor state API
replaced by a dictionary, so no HTTP and no sidecar: what the actor itself costs per call, and
what each step a warm call used to repeat costs. Prints figures; asserts nothing. From services/ai:

    uv run --frozen python bench/actor_call.py [--calls 500]

Two locations: the history bench/ai.ts publishes (35 days, 2 items) and a year of a busy one
(400 days of ~30 items, 90 days of hours, the 5,000 event ids kept for deduplication).
"""

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from dapr.actor import ActorId
from dapr.actor.runtime._type_information import ActorTypeInformation
from dapr.actor.runtime.context import ActorRuntimeContext
from dapr.actor.runtime.manager import ActorManager
from dapr.serializers import DefaultJSONSerializer

from lsp_ai import feedback, worker
from lsp_ai.actors import LocationInsights
from lsp_ai.events import contracts
from lsp_ai.insights import InsightsState, empty_state, record_order
from lsp_ai.synthetic import generate_location, to_state

TENANT = "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01"
LOCATION = "22222222-2222-4222-8222-222222222222"
SETTINGS = {"timeZone": "Asia/Ho_Chi_Minh", "cutoverHour": 4, "source": "auth"}
SERIALIZER = DefaultJSONSerializer()


def bench_history() -> InsightsState:
    """The orders bench/ai-history.ts publishes: 35 days, 6 to 11 a day, two items."""
    state = empty_state()
    today = datetime.now(UTC)
    for ago in range(35, 0, -1):
        day = today - timedelta(days=ago)
        business_day = day.date().isoformat()
        for i in range((9 if day.weekday() >= 5 else 6) + ago % 3):
            lines = [
                {"itemId": "pho", "name": "Phở bò tái", "quantity": 1 + i % 2, "unitPriceVnd": 55_000},
                {"itemId": "tra", "name": "Trà đá", "quantity": 1, "unitPriceVnd": 5_000},
            ]
            order = {
                "tenantId": TENANT,
                "businessDay": business_day,
                "createdAt": f"{business_day}T{'12' if i % 2 else '05'}:{i:02d}:00.000Z",
                "paymentMethod": "cash" if i % 3 else "momo",
                "totalVnd": 55_000 * (1 + i % 2) + 5_000,
                "lines": lines,
            }
            record_order(state, str(uuid.uuid4()), order)
    return state


def busy_year() -> InsightsState:
    state: InsightsState = to_state(generate_location(seed=3, days=400))  # type: ignore[assignment]
    state["tenantId"] = TENANT
    state["seen"] = [str(uuid.uuid4()) for _ in range(5000)]
    return state


class MemoryActorState:
    def __init__(self, values: dict[str, str]) -> None:
        self.stored = {key: SERIALIZER.serialize(text) for key, text in values.items()}

    async def get_state(self, actor_type: str, actor_id: str, name: str) -> bytes:
        return self.stored.get(name, b"")

    async def save_state_transactionally(self, actor_type: str, actor_id: str, data: bytes) -> None:
        return None


def timed(fn: Callable[[], object], n: int) -> str:
    ms = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - started) * 1000)
    ms.sort()
    return f"p50 {statistics.median(ms):7.3f} ms, p99 {ms[max(0, int(len(ms) * 0.99) - 1)]:7.3f} ms"


async def timed_async(fn: Callable[[], Awaitable[object]], n: int) -> str:
    ms = []
    for _ in range(n):
        started = time.perf_counter()
        await fn()
        ms.append((time.perf_counter() - started) * 1000)
    ms.sort()
    return f"p50 {statistics.median(ms):7.3f} ms, p99 {ms[max(0, int(len(ms) * 0.99) - 1)]:7.3f} ms"


async def measure(name: str, state: InsightsState, calls: int) -> None:
    model = worker.run("train", state, SETTINGS["timeZone"], 14)
    model["version"] = state["version"]
    texts = {"insights": json.dumps(state), "model": json.dumps(model), "settings": json.dumps(SETTINGS)}
    ctx = ActorRuntimeContext(
        ActorTypeInformation.create(LocationInsights),
        SERIALIZER,
        SERIALIZER,
        MemoryActorState(texts),  # type: ignore[arg-type]
    )
    manager = ActorManager(ctx)

    def call(method: str, arg: dict[str, Any]) -> Callable[[], Awaitable[bytes]]:
        body = SERIALIZER.serialize([arg])
        return lambda: manager.dispatch(ActorId(LOCATION), method, body)

    forecast = call("Forecast", {"days": 7, "tenantId": TENANT})
    recs = call("Recommendations", {"tenantId": TENANT})
    await forecast()
    answer = json.loads(await recs())
    now = datetime.now(UTC)
    size = (
        f"series {len(texts['insights']) / 1024:.0f} KiB of JSON, model {len(texts['model']) / 1024:.1f} KiB"
    )
    print(f"{name}: {size}")
    print(f"  warm Forecast(days 7), whole dispatch:   {await timed_async(forecast, calls)}")
    print(f"  warm Recommendations, whole dispatch:    {await timed_async(recs, calls)}")
    print("  what a warm call repeated before (each step alone):")
    print(f"    parse the series:                      {timed(lambda: json.loads(texts['insights']), calls)}")
    print(f"    parse the model:                       {timed(lambda: json.loads(texts['model']), calls)}")

    def listing() -> object:
        return feedback.listing(model["recommendations"], feedback.empty_feedback(), state, now, "x")

    def validate() -> object:
        return contracts.validate("ai.answer.recommendations", answer)

    print(f"    list the recommendations:              {timed(listing, calls)}")
    print(f"    check the answer against its contract: {timed(validate, calls)}")


async def main(calls: int) -> None:
    await measure("bench/ai.ts history", bench_history(), calls)
    await measure("a busy year", busy_year(), calls)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    asyncio.run(main(parser.parse_args().calls))
