"""FastAPI apps: `app` hosts the actors and receives pub/sub events (called by the sidecar only,
which proves itself with the app token); `ops` serves readiness and metrics to the platform."""

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from dapr.actor import ActorId, ActorProxyFactory
from dapr.actor.runtime.config import ActorRuntimeConfig
from dapr.actor.runtime.runtime import ActorRuntime
from dapr.ext.fastapi import DaprActor
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from lsp_ai import worker
from lsp_ai.actors import LocationInsights, LocationInsightsInterface
from lsp_ai.asgi import AppTokenGuard, RedMetrics
from lsp_ai.batching import KeyedBatcher
from lsp_ai.config import load_settings
from lsp_ai.contracts import ContractError, Contracts
from lsp_ai.insights import fit_pool, run_cpu_bound
from lsp_ai.metrics import EVENTS, metrics_response
from lsp_ai.telemetry import setup_logging, setup_tracing

settings = load_settings()
setup_logging(settings.service_name, settings.log_level)
log = logging.getLogger("lsp_ai")
contracts = Contracts(settings.contracts_dir)

ActorRuntime.set_actor_config(
    ActorRuntimeConfig(actor_idle_timeout=timedelta(hours=1), drain_ongoing_call_timeout=timedelta(seconds=5))
)


proxies: list[ActorProxyFactory] = []


def proxy_factory() -> ActorProxyFactory:
    """One factory (one HTTP client to the sidecar) per process; creating it checks the sidecar."""
    if not proxies:
        proxies.append(ActorProxyFactory())
    return proxies[0]


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    await actor.register_actor(LocationInsights)
    proxy_factory()
    # Start the fit worker now (it imports statsmodels and scikit-learn): the first actor call
    # must not pay for it.
    await run_cpu_bound(worker.run, "warm_up")
    log.info("actors registered", extra={"actor_types": ["LocationInsights"]})
    yield
    fit_pool().shutdown(wait=False, cancel_futures=True)


app = FastAPI(title="LSP AI", lifespan=lifespan)


# Added last = outermost: the metrics see the refusals too.
app.add_middleware(AppTokenGuard, token=settings.app_api_token, open_paths=frozenset({"/healthz"}))
app.add_middleware(RedMetrics)
actor = DaprActor(app)
setup_tracing(app, settings.service_name, settings.otlp_endpoint)


ops = FastAPI(title="LSP AI ops")


@ops.get("/healthz")
async def ops_healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@ops.get("/readyz")
async def readyz() -> JSONResponse:
    url = f"http://127.0.0.1:{settings.dapr_http_port}/v1.0/healthz/outbound"
    try:
        async with httpx.AsyncClient(timeout=1.0) as client:
            ok = (await client.get(url, headers={"dapr-api-token": settings.dapr_api_token})).is_success
    except httpx.HTTPError as err:
        return JSONResponse({"status": "not ready", "checks": {"sidecar": str(err)}}, status_code=503)
    status = "ok" if ok else "not ready"
    return JSONResponse(
        {"status": "ready" if ok else "not ready", "checks": {"sidecar": status}},
        status_code=200 if ok else 503,
    )


@ops.get("/metrics")
async def metrics() -> Any:
    return metrics_response()


async def record_at_location(location_id: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One actor call for a batch of one location's order events (see KeyedBatcher)."""
    proxy = proxy_factory().create("LocationInsights", ActorId(location_id), LocationInsightsInterface)
    answer = await proxy.RecordOrders(json.dumps({"events": events}, ensure_ascii=False))
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list):
        raise RuntimeError(f"RecordOrders answered {answer!r}")
    return results


# Deliveries of one location that arrive while its actor records a batch become the next batch:
# one state load and save for many events under load (pub/sub hands over up to its concurrency).
intake: KeyedBatcher[dict[str, Any], dict[str, Any]] = KeyedBatcher(record_at_location)


async def _checked_event(
    request: Request, types: frozenset[str]
) -> tuple[str, str, dict[str, Any]] | JSONResponse:
    """The delivered CloudEvent's id, type and data checked against its contract; else the answer
    to give Dapr: DROP for what is not a CloudEvent or breaks its contract (never retried),
    SUCCESS for a type this route does not handle (ignored)."""
    try:
        event = await request.json()
    except ValueError:
        log.error("not JSON; dropping")
        return JSONResponse({"status": "DROP"})
    event_id = event.get("id") if isinstance(event, dict) else None
    event_type = event.get("type") if isinstance(event, dict) else None
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        log.error("not a CloudEvent; dropping")
        return JSONResponse({"status": "DROP"})
    if event_type not in types:
        EVENTS.labels(type=event_type, outcome="ignored").inc()
        return JSONResponse({"status": "SUCCESS"})
    try:
        return event_id, event_type, contracts.validate(event_type, event.get("data"))
    except ContractError as err:
        EVENTS.labels(type=event_type, outcome="invalid").inc()
        log.error("event breaks its contract; dropping", extra={"eventId": event_id, "error": str(err)})
        return JSONResponse({"status": "DROP"})


ORDER_EVENTS = frozenset({"order.created", "order.voided"})
LOCATION_EVENTS = frozenset({"location.changed"})


@app.post("/events/orders")
async def on_orders_event(request: Request) -> JSONResponse:
    """Declarative subscription `ai-orders` (components/) delivers the orders topic here."""
    checked = await _checked_event(request, ORDER_EVENTS)
    if isinstance(checked, JSONResponse):
        return checked
    event_id, event_type, order = checked
    try:
        result = await intake.submit(
            str(order["locationId"]), {"eventId": event_id, "type": event_type, "data": order}
        )
    except Exception:
        EVENTS.labels(type=event_type, outcome="failed").inc()
        log.exception("actor call failed; Dapr will retry", extra={"eventId": event_id})
        return JSONResponse({"status": "RETRY"}, status_code=500)
    rejected = result.get("rejected") if isinstance(result, dict) else None
    if rejected:
        # Tenant and location do not match the location's records: a contract violation, never retried.
        EVENTS.labels(type=event_type, outcome="rejected").inc()
        log.warning(
            "event's tenant and location do not match; dropping",
            extra={
                "eventId": event_id,
                "reason": rejected,
                "tenantId": order["tenantId"],
                "locationId": order["locationId"],
            },
        )
        return JSONResponse({"status": "DROP"})
    EVENTS.labels(type=event_type, outcome="processed").inc()
    return JSONResponse({"status": "SUCCESS"})


@app.post("/events/locations")
async def on_locations_event(request: Request) -> JSONResponse:
    """Declarative subscription `ai-location-changes` (components/) delivers auth's location.changed here:
    the location's actor retrains now, asking auth for its settings, so that new opening days
    count at once instead of at the next daily retrain."""
    checked = await _checked_event(request, LOCATION_EVENTS)
    if isinstance(checked, JSONResponse):
        return checked
    event_id, event_type, change = checked
    proxy = proxy_factory().create(
        "LocationInsights", ActorId(str(change["locationId"])), LocationInsightsInterface
    )
    try:
        answer = await proxy.SettingsChanged({"tenantId": change["tenantId"]})
    except Exception:
        EVENTS.labels(type=event_type, outcome="failed").inc()
        log.exception("actor call failed; Dapr will retry", extra={"eventId": event_id})
        return JSONResponse({"status": "RETRY"}, status_code=500)
    if isinstance(answer, dict) and answer.get("rejected"):
        EVENTS.labels(type=event_type, outcome="rejected").inc()
        log.warning(
            "location.changed names another tenant than the location's series; dropping",
            extra={"eventId": event_id, "tenantId": change["tenantId"], "locationId": change["locationId"]},
        )
        return JSONResponse({"status": "DROP"})
    EVENTS.labels(type=event_type, outcome="processed").inc()
    return JSONResponse({"status": "SUCCESS"})
