"""Prometheus metrics: HTTP RED (same names as the TypeScript services) and event outcomes."""

from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUEST_DURATION = Histogram(
    "http_server_request_duration_seconds",
    "HTTP request duration by method, route and status",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
REQUESTS = Counter(
    "http_server_requests", "HTTP requests by method, route and status", ["method", "route", "status"]
)
EVENTS = Counter("ai_events_processed", "Pub/sub events by CloudEvent type and outcome", ["type", "outcome"])


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
