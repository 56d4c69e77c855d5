"""Typed connector configuration, loaded from a TOML (or JSON) file.

Every config names its ``kind`` (which adapter), its ``name`` (unique per deployment: it names
the consumer group, the progress file and the ``ce_source``) and the ``agency`` it acts for.
Each adapter subclasses :class:`ConnectorConfig` with its own fields; unknown keys are errors,
so a typo never passes silently::

    kind = "file-drop"
    name = "civil-affairs-export"
    agency = "civil-affairs"
    [retry]
    max_attempts = 5
"""

from __future__ import annotations

import json
import random
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.sdk.exceptions import ConnectorConfigError
from exchange.client.identity import source_problem
from exchange.models.exceptions import FieldError, field_errors

C = TypeVar("C", bound="ConnectorConfig")
CONNECTOR_NAME = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"


class RetryPolicy(BaseModel):
    """Exponential backoff with jitter: attempt n waits ``initial * multiplier**(n-1)``, capped
    at ``max_backoff_s``, each delay scaled by a random factor in ``[1 - jitter, 1]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(5, ge=1, description="Attempts per record before dead-lettering.")
    initial_backoff_s: float = Field(0.2, gt=0)
    max_backoff_s: float = Field(30.0, gt=0)
    multiplier: float = Field(2.0, ge=1)
    jitter: float = Field(0.2, ge=0, le=1)

    def delays(self) -> Iterator[float]:
        """The waits between attempts (``max_attempts - 1`` of them)."""
        delay = self.initial_backoff_s
        for _ in range(self.max_attempts - 1):
            yield min(delay, self.max_backoff_s) * (1 - self.jitter * random.random())  # noqa: S311
            delay *= self.multiplier


class ConnectorConfig(BaseModel):
    """What every connector has; adapters add their own fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(description="Adapter: a built-in kind or 'package.module:ClassName'.")
    name: str = Field(pattern=CONNECTOR_NAME, description="Unique name of this deployment.")
    agency: str = Field(description="Agency id (topology/agencies.toml) the connector acts for.")
    source: str | None = Field(
        None, description="CloudEvents source; default /agencies/<agency>/connect/<name>."
    )
    state_dir: Path = Field(
        Path(".state/connectors"), description="Where progress (positions, outbox ids) is kept."
    )
    retry: RetryPolicy = RetryPolicy()
    deadletter_topic: str | None = Field(None, description="Default: exchange.deadletter.<agency>.")
    metrics_port: int | None = Field(None, description="Serve Prometheus metrics on this port.")

    @model_validator(mode="after")
    def _source_is_the_agencys(self) -> ConnectorConfig:
        if self.source is not None and (problem := source_problem(self.agency, self.source)):
            raise ValueError(f"source: {problem}")
        return self

    @property
    def ce_source(self) -> str:
        return self.source or f"/agencies/{self.agency}/connect/{self.name}"

    @property
    def deadletter(self) -> str:
        return self.deadletter_topic or f"exchange.deadletter.{self.agency}"

    @property
    def progress_file(self) -> Path:
        return self.state_dir / f"{self.name}.progress.sqlite"


def read_config_file(path: Path) -> dict[str, Any]:
    """The raw mapping of a ``.toml`` or ``.json`` config file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConnectorConfigError(path, [FieldError("", "file_unreadable", str(error))]) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ConnectorConfigError(path, [FieldError("", "syntax", str(error))]) from None
    if not isinstance(data, dict):
        raise ConnectorConfigError(path, [FieldError("", "object", "the config must be a table")])
    return data


def validate_config(model: type[C], data: dict[str, Any], path: Path) -> C:
    """``data`` as ``model``, or :class:`ConnectorConfigError` naming every broken field."""
    try:
        config = model.model_validate(data)
    except ValidationError as error:
        raise ConnectorConfigError(path, root_causes(field_errors(error))) from None
    return config


def root_causes(errors: list[FieldError]) -> list[FieldError]:
    """Each broken field once: the first error per field, and no follow-on error of a container
    whose own item is named (``callers`` too short because ``callers.0`` failed)."""
    fields = [e.field for e in errors]
    kept: dict[str, FieldError] = {}
    for error in errors:
        inner = any(f.startswith(f"{error.field}.") for f in fields) if error.field else False
        if not inner and error.field not in kept:
            kept[error.field] = error
    return list(kept.values())
