"""What the actors ask of other services through their sidecar: location settings from auth
(service invocation) and the findings they publish (pub/sub), validated against the shared
contracts before they leave."""

import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from lsp_ai.config import load_settings
from lsp_ai.contracts import Contracts

log = logging.getLogger("lsp_ai.events")
settings = load_settings()
contracts = Contracts(settings.contracts_dir)

PUBSUB = "pubsub"
TOPIC = "ai"
DEFAULT_SETTINGS: dict[str, Any] = {
    "timeZone": "Asia/Ho_Chi_Minh",
    "cutoverHour": 4,
    "closedWeekdays": [],
    "source": "default",
}
# Findings older than this (by business day) are history, not news: a first training over months
# of data must not send an alert for every odd day it finds.
PUBLISH_RECENT_DAYS = 3
PUBLISHED_KINDS_EXCLUDED = {"prep_quantity"}  # daily operational numbers: shown in the app, not pushed


def _weekday_names() -> tuple[str, ...]:
    """Auth's weekday names, Monday first (@lsp/contracts' WEEKDAYS, the one list, read from the
    generated schema of location.changed): a name's index is Python's `weekday()`."""
    validator = contracts.validator("location.changed")
    if validator is None:
        raise RuntimeError("no contract for location.changed: the weekday names are in it")
    schema: Any = validator.schema
    return tuple(schema["properties"]["closedWeekdays"]["items"]["enum"])


WEEKDAYS = _weekday_names()


def closed_weekdays_of(names: Any) -> list[int]:
    """Auth's `closedWeekdays` (names) as weekday numbers, Monday = 0, sorted; absent (an older
    auth) = none closed. An unknown name is auth's mistake, not a closure: raises ValueError."""
    if names is None:
        return []
    if not isinstance(names, list):
        raise ValueError(f"closedWeekdays: expected a list, got {type(names).__name__}")
    return sorted({WEEKDAYS.index(str(n)) for n in names})


def settings_closed_weekdays(loc: dict[str, Any]) -> list[int]:
    """The closed weekdays of stored settings (settings stored before they were added: none)."""
    return [int(d) for d in loc.get("closedWeekdays", [])]


def _sidecar(path: str) -> str:
    return f"http://127.0.0.1:{settings.dapr_http_port}/v1.0/{path}"


def _sidecar_headers(extra: dict[str, str]) -> dict[str, str]:
    """Every call to the sidecar carries the Dapr API token (the sidecar refuses it otherwise)."""
    return {**extra, "dapr-api-token": settings.dapr_api_token}


class AuthUnavailable(Exception):
    """Auth could not say whose a location is (down, timing out, answering 5xx): not the event's
    fault, so the event is retried."""


async def location_of_tenant(
    location_id: str, tenant_id: str, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, Any] | None:
    """The location's settings when auth (which owns locations) says it is this tenant's; None
    when auth says it is not (`null`, answered with 200 so that unknown ids never trip a circuit
    breaker; 404/400 from older auth versions).
    Raises AuthUnavailable when auth cannot answer."""
    # A system call in the tenant: auth trusts it because the caller's Dapr app id is ai.
    headers = _sidecar_headers({"x-lsp-tenant-id": tenant_id})
    try:
        async with httpx.AsyncClient(timeout=2.0, transport=transport) as client:
            res = await client.get(
                _sidecar(f"invoke/auth/method/v1/locations/{quote(location_id, safe='')}"),
                headers=headers,
            )
        if res.status_code in (400, 404):
            return None
        if not res.is_success:
            raise AuthUnavailable(f"auth answered {res.status_code}")
        body = res.json()
        if body is None:
            return None
        if body.get("tenantId", tenant_id) != tenant_id or body.get("id", location_id) != location_id:
            return None
        return {
            "timeZone": str(body["timeZone"]),
            "cutoverHour": int(body["cutoverHour"]),
            "closedWeekdays": closed_weekdays_of(body.get("closedWeekdays")),
            "source": "auth",
        }
    except (httpx.HTTPError, KeyError, ValueError, TypeError, AttributeError) as err:
        raise AuthUnavailable(str(err)) from err


async def ensure_settings(location_id: str, tenant_id: str | None) -> dict[str, Any]:
    """The location's time zone, cut-over and closed weekdays from auth (which owns locations);
    defaults (marked as such, and asked again next time) when auth cannot say."""
    if not tenant_id:
        return DEFAULT_SETTINGS
    try:
        found = await location_of_tenant(location_id, tenant_id)
        if found is not None:
            return found
        log.warning("auth does not know the location for its tenant", extra={"locationId": location_id})
    except AuthUnavailable as err:
        log.warning("auth unreachable for location settings", extra={"error": str(err)})
    return DEFAULT_SETTINGS


def day_start(business_day: str, loc: dict[str, Any]) -> str:
    """Start of a business day (its cut-over) on the location's clock, with offset."""
    d = datetime.fromisoformat(business_day).date()
    at = datetime.combine(d, time(hour=int(loc["cutoverHour"])), tzinfo=ZoneInfo(loc["timeZone"]))
    return at.isoformat()


def findings_to_events(
    location_id: str, tenant_id: str, loc: dict[str, Any], model: dict[str, Any], now: datetime
) -> list[tuple[str, str, dict[str, Any]]]:
    """(event id, type, data) for the model's recent anomalies and its recommendations."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    last_day = model["forecast"]["points"][0]["day"] if model["forecast"]["points"] else None
    recent = set()
    if last_day:
        end = datetime.fromisoformat(last_day).date()
        recent = {(end.toordinal() - k) for k in range(1, PUBLISH_RECENT_DAYS + 1)}
    zone = ZoneInfo(loc["timeZone"])
    for a in model["anomalies"]:
        if datetime.fromisoformat(a["businessDay"]).date().toordinal() not in recent:
            continue
        anomaly_id = f"{location_id}:{a['kind']}:{a['businessDay']}"
        out.append(
            (
                anomaly_id,
                "ai.anomaly.detected",
                {
                    "anomalyId": anomaly_id,
                    "tenantId": tenant_id,
                    "locationId": location_id,
                    "businessDay": a["businessDay"],
                    "at": day_start(a["businessDay"], loc),
                    "kind": a["kind"],
                    "description": a["description"][:2000],
                    "severity": a["severity"],
                    "score": float(a["score"]),
                },
            )
        )
    for h in model["hourlyAnomalies"]:
        at = datetime.fromisoformat(h["at"]).replace(tzinfo=zone)
        day = (at - timedelta(hours=int(loc["cutoverHour"]))).date()  # hours before the cut-over: day before
        if day.toordinal() not in recent:
            continue
        anomaly_id = f"{location_id}:{h['kind']}:{h['at']}"
        out.append(
            (
                anomaly_id,
                "ai.anomaly.detected",
                {
                    "anomalyId": anomaly_id,
                    "tenantId": tenant_id,
                    "locationId": location_id,
                    "businessDay": day.isoformat(),
                    "at": at.isoformat(),
                    "kind": h["kind"],
                    "description": h["description"][:2000],
                    "severity": "medium",
                    "score": round(1 - h["revenueVnd"] / max(1, h["expectedRevenueVnd"]), 4),
                },
            )
        )
    for r in model["recommendations"]:
        if r["kind"] in PUBLISHED_KINDS_EXCLUDED:
            continue
        rec_id = f"{location_id}:{r['id']}"
        out.append(
            (
                rec_id,
                "ai.recommendation.created",
                {
                    "recommendationId": rec_id[:200],
                    "tenantId": tenant_id,
                    "locationId": location_id,
                    "kind": r["kind"][:50],
                    "title": r["title"][:300],
                    "reason": r["reason"][:2000],
                    "priority": r["priority"],
                    "createdAt": now.isoformat(),
                },
            )
        )
    return out


async def publish_findings(
    location_id: str,
    tenant_id: str | None,
    loc: dict[str, Any],
    model: dict[str, Any],
    already: list[str],
) -> list[str]:
    """Publishes what is new since the last retrain; returns the event ids sent. The CloudEvent id
    is the finding's id, so a redelivery or a repeated retrain is one notification downstream."""
    if not tenant_id:
        log.warning("no tenant known yet; nothing published", extra={"locationId": location_id})
        return []
    sent: list[str] = []
    now = datetime.now(UTC)
    async with httpx.AsyncClient(timeout=5.0) as client:
        for event_id, event_type, data in findings_to_events(location_id, tenant_id, loc, model, now):
            if event_id in already:
                continue
            contracts.validate(event_type, data)  # a bug here must not reach notifications
            envelope = {
                "specversion": "1.0",
                "id": event_id,
                "source": "ai",
                "type": event_type,
                "time": now.isoformat(),
                "datacontenttype": "application/json",
                "data": data,
            }
            res = await client.post(
                _sidecar(f"publish/{PUBSUB}/{TOPIC}"),
                json=envelope,
                headers=_sidecar_headers({"content-type": "application/cloudevents+json"}),
            )
            res.raise_for_status()
            sent.append(event_id)
    return sent
