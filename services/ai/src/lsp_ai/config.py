"""Typed settings from the environment (the launcher and the Helm chart set them)."""

import os
from dataclasses import dataclass
from pathlib import Path


def _default_contracts_dir() -> Path:
    # services/ai/src/lsp_ai/config.py -> repo root / packages/contracts/schemas
    return Path(__file__).resolve().parents[4] / "packages" / "contracts" / "schemas"


@dataclass(frozen=True)
class Settings:
    app_host: str
    app_port: int
    # The ops listener (/readyz, /metrics): for the platform only, never behind the sidecar.
    ops_host: str
    ops_port: int
    dapr_http_port: int
    # App → its sidecar (the sidecar refuses API calls without it; the Dapr SDK reads the same
    # variable) and sidecar → app (every route but /healthz refuses a request without it).
    dapr_api_token: str
    app_api_token: str
    log_level: str
    service_name: str
    otlp_endpoint: str | None
    contracts_dir: Path


def load_settings() -> Settings:
    return Settings(
        # 127.0.0.1 locally (only the sidecar calls us); the image sets 0.0.0.0 for kubelet probes.
        app_host=os.environ.get("APP_HOST", "127.0.0.1"),
        app_port=int(os.environ.get("APP_PORT", "8000")),
        ops_host=os.environ.get("OPS_HOST", "127.0.0.1"),
        ops_port=int(os.environ.get("OPS_PORT", "8001")),
        dapr_http_port=int(os.environ.get("DAPR_HTTP_PORT", "3500")),
        dapr_api_token=os.environ.get("DAPR_API_TOKEN", ""),
        app_api_token=os.environ.get("APP_API_TOKEN", ""),
        log_level=os.environ.get("LOG_LEVEL", "info").upper(),
        service_name=os.environ.get("OTEL_SERVICE_NAME", "ai"),
        otlp_endpoint=os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
        contracts_dir=Path(os.environ.get("LSP_CONTRACTS_DIR") or _default_contracts_dir()),
    )
