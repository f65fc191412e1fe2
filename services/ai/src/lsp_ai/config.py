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
    dapr_http_port: int
    log_level: str
    service_name: str
    otlp_endpoint: str | None
    contracts_dir: Path


def load_settings() -> Settings:
    return Settings(
        # 127.0.0.1 locally (only the sidecar calls us); the image sets 0.0.0.0 for kubelet probes.
        app_host=os.environ.get("APP_HOST", "127.0.0.1"),
        app_port=int(os.environ.get("APP_PORT", "8000")),
        dapr_http_port=int(os.environ.get("DAPR_HTTP_PORT", "3500")),
        log_level=os.environ.get("LOG_LEVEL", "info").upper(),
        service_name=os.environ.get("OTEL_SERVICE_NAME", "ai"),
        otlp_endpoint=os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
        contracts_dir=Path(os.environ.get("LSP_CONTRACTS_DIR") or _default_contracts_dir()),
    )
