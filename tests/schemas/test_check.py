"""run_check: the CI schema gate."""

from __future__ import annotations

import copy
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from exchange.schemas import freeze, run_check

from .conftest import PING, write_schema


class Ping(BaseModel):
    caseId: str  # noqa: N815 - Avro field names


class Pong(BaseModel):
    caseId: str  # noqa: N815 - Avro field names


@dataclass(frozen=True)
class Spec:
    fullname: str
    model: type[BaseModel]


EVENTS = {
    "Ping": Spec("exchange.events.Ping", Ping),
    "Pong": Spec("exchange.events.Pong", Pong),
}


def no_drift(model: type[BaseModel], schema: dict[str, Any]) -> list[str]:
    assert schema["name"] == model.__name__
    return []


def test_ok_after_freeze(schema_dir: Path) -> None:
    freeze(schema_dir)
    result = run_check(schema_dir, events=EVENTS, drift=no_drift)
    assert result.ok, result.lines
    assert all(line.startswith("ok") for line in result.lines)


def test_unpublished_change_fails(schema_dir: Path) -> None:
    freeze(schema_dir)
    changed = copy.deepcopy(PING)
    changed["doc"] = "Changed doc."
    write_schema(schema_dir, changed)
    result = run_check(schema_dir, events=EVENTS, drift=no_drift)
    assert not result.ok
    assert any("Ping: source differs" in line for line in result.lines)


def test_drift_and_missing_model_fail(schema_dir: Path) -> None:
    freeze(schema_dir)

    def drift(model: type[BaseModel], schema: dict[str, Any]) -> list[str]:
        return ["field 'at' missing"] if model is Ping else []

    result = run_check(schema_dir, events={"Ping": EVENTS["Ping"]}, drift=drift)
    assert not result.ok
    assert "FAIL exchange.events.Ping: model Ping: field 'at' missing" in result.lines
    assert any("Pong: schema has no pydantic model" in line for line in result.lines)


def test_unparsable_catalogue_fails(tmp_path: Path) -> None:
    result = run_check(tmp_path / "missing", events=EVENTS, drift=no_drift)
    assert not result.ok
    assert "does not exist" in result.lines[0]


@pytest.mark.skipif(
    importlib.util.find_spec("exchange.models.registry") is None
    or importlib.util.find_spec("exchange.models.drift") is None,
    reason="exchange.models not written yet",
)
def test_project_catalogue_passes_the_gate() -> None:
    result = run_check()
    assert result.ok, "\n".join(result.lines)
