"""The ``.avsc`` files follow the house rules: one named type per file, named by full name,
documented everywhere, references by full name, sensitivity tags from the known set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema

from exchange.models.registry import EVENTS
from exchange.models.sensitivity import SENSITIVITY_TAGS

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "avro"
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
FILES = sorted(SCHEMA_DIR.glob("*.avsc"))


def _walk_types(schema: Any) -> list[Any]:
    """Every type expression inside a raw schema (not following references)."""
    out = [schema]
    if isinstance(schema, list):
        for branch in schema:
            out += _walk_types(branch)
    elif isinstance(schema, dict):
        if schema.get("type") == "record":
            for field in schema["fields"]:
                out += _walk_types(field["type"])
        elif schema.get("type") == "array":
            out += _walk_types(schema["items"])
        elif schema.get("type") == "map":
            out += _walk_types(schema["values"])
    return out


def test_there_are_schemas() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_rules(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["type"] in ("record", "enum", "fixed")
    assert path.name == f"{schema['namespace']}.{schema['name']}.avsc"
    assert schema["namespace"] in ("exchange.common", "exchange.events")
    assert schema.get("doc"), "named type without doc"
    for inner in _walk_types(schema)[1:]:
        if isinstance(inner, dict):
            assert inner.get("type") not in ("record", "enum", "fixed"), "one named type per file"
        if isinstance(inner, str) and inner not in PRIMITIVES:
            assert inner.startswith("exchange."), f"refer by full name: {inner}"
    for field in schema.get("fields", []):
        assert field.get("doc"), f"field {field['name']} without doc"
        tags = field.get("sensitivity", [])
        assert set(tags) <= SENSITIVITY_TAGS
        assert len(tags) == len(set(tags))
        branches = field["type"] if isinstance(field["type"], list) else []
        if "null" in branches:
            assert branches[0] == "null"
            assert field.get("default", "absent") is None, f"{field['name']}: optional needs null"


def test_each_event_parses_on_its_own(parsed_schemas: dict[str, Any], expanded: Any) -> None:
    for spec in EVENTS.values():
        assert spec.fullname in parsed_schemas
        parse_schema(expanded(spec.fullname))  # self-contained after expansion


def test_logical_types() -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in FILES)
    assert '"timestamp-millis"' in text
    assert '"date"' in text
    assert '"timestamp-micros"' not in text
