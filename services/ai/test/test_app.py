import os

from fastapi.testclient import TestClient

os.environ.setdefault("DAPR_HTTP_PORT", "1")  # no sidecar: readiness must say so, quickly
os.environ["APP_API_TOKEN"] = "test-app-token-" + "x" * 32

from test_insights import ORDER

from lsp_ai.main import app, contracts, ops

APP_TOKEN = os.environ["APP_API_TOKEN"]

# Not entered as a context manager: the lifespan (actor registration) waits for a sidecar.
# The sidecar proves itself with the app token; so does this client.
client = TestClient(app, headers={"dapr-api-token": APP_TOKEN})
ops_client = TestClient(ops)


def test_health_metrics_and_readiness_without_a_sidecar() -> None:
    assert client.get("/healthz").status_code == 200
    ready = ops_client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not ready"
    assert "http_server_request_duration_seconds" in ops_client.get("/metrics").text


def test_only_the_sidecar_may_call_the_app() -> None:
    anonymous = TestClient(app)
    assert anonymous.get("/healthz").status_code == 200
    event = {"id": "e9", "type": "menu.item.changed", "specversion": "1.0", "data": {}}
    assert anonymous.post("/events/orders", json=event).status_code == 401
    forged = TestClient(app, headers={"dapr-api-token": "not-the-token"})
    assert forged.post("/events/orders", json=event).status_code == 401
    assert anonymous.get("/metrics").status_code == 401, "metrics are on the ops listener only"


def test_contract_from_the_typescript_source_accepts_and_rejects() -> None:
    assert contracts.knows("order.created"), (
        "packages/contracts/schemas/order.created.json is generated from zod"
    )
    assert contracts.validate("order.created", ORDER) == ORDER
    bad = {**ORDER, "totalVnd": 10.5}
    try:
        contracts.validate("order.created", bad)
    except ValueError as err:
        assert "totalVnd" in str(err)
    else:
        raise AssertionError("fractional VND accepted")


def test_invalid_event_is_dropped_and_unknown_types_are_ignored() -> None:
    bad = {"id": "e1", "type": "order.created", "specversion": "1.0", "data": {**ORDER, "lines": []}}
    assert client.post("/events/orders", json=bad).json() == {"status": "DROP"}
    other = {"id": "e2", "type": "menu.item.changed", "specversion": "1.0", "data": {}}
    assert client.post("/events/orders", json=other).json() == {"status": "SUCCESS"}
    assert client.post("/events/orders", json={"nope": 1}).json() == {"status": "DROP"}


def test_a_location_change_that_breaks_its_contract_is_dropped_before_any_actor_call() -> None:
    # No sidecar here: any actor call would fail and answer RETRY, so DROP and SUCCESS below
    # show the event was judged before one.
    change = {"id": "l1", "type": "location.changed", "specversion": "1.0"}
    no_days = {"tenantId": "not-a-uuid", "locationId": "x", "name": "Q1", "timeZone": "Asia/Ho_Chi_Minh"}
    assert client.post("/events/locations", json={**change, "data": no_days}).json() == {"status": "DROP"}
    other = {"id": "l2", "type": "member.changed", "specversion": "1.0", "data": {}}
    assert client.post("/events/locations", json=other).json() == {"status": "SUCCESS"}
    assert client.post("/events/locations", content=b"not json").json() == {"status": "DROP"}
