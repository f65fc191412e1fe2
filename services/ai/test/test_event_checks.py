"""What an order event may claim (its tenant and location, checked against auth's records) and
amounts beyond 32 bits (a 5.49 bn VND banquet order) through parsing, contracts and the series."""

import asyncio
import json
from typing import Any

import httpx
import pytest
from test_insights import ORDER

from lsp_ai.events import AuthUnavailable, contracts, location_of_tenant
from lsp_ai.insights import admit_event, empty_state, record_order, summary

TENANT = str(ORDER["tenantId"])
LOCATION = str(ORDER["locationId"])
SETTINGS = {"timeZone": "Asia/Ho_Chi_Minh", "cutoverHour": 4, "source": "auth"}


def lookup_of(records: dict[str, str]):
    """Auth's records in memory: location id -> tenant id."""
    calls: list[tuple[str, str]] = []

    async def lookup(location_id: str, tenant_id: str) -> dict[str, Any] | None:
        calls.append((location_id, tenant_id))
        return SETTINGS if records.get(location_id) == tenant_id else None

    return lookup, calls


def test_a_first_event_is_checked_with_auth_then_the_series_tenant_decides() -> None:
    lookup, calls = lookup_of({LOCATION: TENANT})
    state = empty_state()
    assert asyncio.run(admit_event(state, LOCATION, TENANT, lookup)) == SETTINGS
    record_order(state, "e1", ORDER)
    assert asyncio.run(admit_event(state, LOCATION, TENANT, lookup)) is None
    assert len(calls) == 1  # known tenant: no second question to auth
    other = "99999999-9999-4999-8999-999999999999"
    assert asyncio.run(admit_event(state, LOCATION, other, lookup)) == "tenant-mismatch"
    assert state["tenantId"] == TENANT


def test_a_location_auth_does_not_give_to_the_tenant_is_rejected() -> None:
    lookup, _ = lookup_of({LOCATION: "99999999-9999-4999-8999-999999999999"})
    assert asyncio.run(admit_event(empty_state(), LOCATION, TENANT, lookup)) == "unknown-location"


def _auth(status: int, body: dict[str, Any] | None = None) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body or {}))


def test_auth_answers_map_to_settings_rejection_or_retry() -> None:
    ok = {"id": LOCATION, "tenantId": TENANT, "name": "x", "timeZone": "Asia/Ho_Chi_Minh", "cutoverHour": 5}
    found = asyncio.run(location_of_tenant(LOCATION, TENANT, _auth(200, ok)))
    assert found == {"timeZone": "Asia/Ho_Chi_Minh", "cutoverHour": 5, "closedWeekdays": [], "source": "auth"}
    null = httpx.MockTransport(lambda request: httpx.Response(200, content=b"null"))
    assert asyncio.run(location_of_tenant(LOCATION, TENANT, null)) is None
    assert asyncio.run(location_of_tenant(LOCATION, TENANT, _auth(404))) is None
    assert asyncio.run(location_of_tenant(LOCATION, TENANT, _auth(400))) is None
    other = {**ok, "tenantId": "99999999-9999-4999-8999-999999999999"}
    assert asyncio.run(location_of_tenant(LOCATION, TENANT, _auth(200, other))) is None
    with pytest.raises(AuthUnavailable):
        asyncio.run(location_of_tenant(LOCATION, TENANT, _auth(503)))

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(AuthUnavailable):
        asyncio.run(location_of_tenant(LOCATION, TENANT, httpx.MockTransport(down)))


BANQUET = {
    **ORDER,
    "totalVnd": 5_494_500_000,
    "subtotalVnd": 5_494_500_000,
    "lines": [
        {
            "itemId": f"33333333-3333-4333-8333-{i:012d}",
            "name": f"Mâm {i}",
            "quantity": 999,
            "unitPriceVnd": 55_000,
        }
        for i in range(100)
    ],
}


def test_amounts_beyond_32_bits_parse_validate_and_sum_exactly() -> None:
    data = json.loads(json.dumps(BANQUET))
    assert contracts.validate("order.created", data) == data
    at_max = {**data, "totalVnd": 2**53 - 1}
    assert contracts.validate("order.created", at_max) == at_max
    with pytest.raises(ValueError, match="totalVnd"):
        contracts.validate("order.created", {**data, "totalVnd": 2**53})
    state = empty_state()
    record_order(state, "big-1", data)
    record_order(state, "big-2", data)
    s = summary(LOCATION, state)
    assert s["revenueVnd"] == 10_989_000_000
    assert isinstance(s["revenueVnd"], int)
    units, revenue = state["days"]["2026-11-21"]["items"]["33333333-3333-4333-8333-000000000000"]
    assert (units, revenue) == (1998, 109_890_000)
