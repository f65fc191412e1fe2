"""The LocationInsights actor: one per location, its series kept in actor state.

The SDK's JSON decoder turns date-like strings into datetime objects, both in method arguments
and in state. Our payloads carry business days and timestamps as strings, so the state is kept
as one JSON text, and RecordOrder takes its event as JSON text too.
"""

import json
from typing import Any

from dapr.actor import Actor, ActorInterface, actormethod

from lsp_ai.insights import InsightsState, empty_state, record_order, single_argument, summary

STATE_KEY = "insights"


class LocationInsightsInterface(ActorInterface):
    @actormethod(name="RecordOrder")
    async def record_order(self, event: Any) -> dict[str, Any]: ...

    @actormethod(name="GetSummary")
    async def get_summary(self, arg: Any) -> dict[str, Any]: ...


class LocationInsights(Actor, LocationInsightsInterface):
    """Actor type name = class name; the TypeScript edge calls it by that name."""

    async def _load(self) -> InsightsState:
        found, value = await self._state_manager.try_get_state(STATE_KEY)
        return json.loads(value) if found else empty_state()

    async def record_order(self, event: Any) -> dict[str, Any]:
        arg = single_argument(json.loads(event) if isinstance(event, str) else event)
        state = await self._load()
        recorded = record_order(state, str(arg["eventId"]), arg["data"])
        if recorded:
            await self._state_manager.set_state(STATE_KEY, json.dumps(state, ensure_ascii=False))
            await self._state_manager.save_state()
        return {"recorded": recorded}

    async def get_summary(self, arg: Any) -> dict[str, Any]:
        single_argument(arg)
        return summary(self.id.id, await self._load())
