"""Event contracts: the JSON Schemas generated from the TypeScript zod contracts (one source)."""

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator


class ContractError(ValueError):
    """An event's data does not match its contract."""


class Contracts:
    def __init__(self, schemas_dir: Path) -> None:
        self.schemas_dir = schemas_dir

    @cache  # noqa: B019 - one Contracts object per process
    def validator(self, event_type: str) -> Draft202012Validator | None:
        path = self.schemas_dir / f"{event_type}.json"
        if not path.exists():
            return None
        schema = json.loads(path.read_text(encoding="utf-8"))
        return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

    def knows(self, event_type: str) -> bool:
        return self.validator(event_type) is not None

    def validate(self, event_type: str, data: Any) -> dict[str, Any]:
        validator = self.validator(event_type)
        if validator is None:
            raise ContractError(f"no contract for event type {event_type!r}")
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.path) or "(root)"
            raise ContractError(f"{event_type}: {where}: {first.message}")
        return data
