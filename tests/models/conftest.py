"""Fixtures for the model tests: the schema catalogue loaded and expanded without the loader.

The helper here is deliberately independent of ``exchange.schemas`` so that these tests check
the ``.avsc`` files and the models against each other, not against another engineer's loader.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "avro"
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}

Expand = Callable[[str], dict[str, Any]]


def _references(schema: Any) -> set[str]:  # noqa: PLR0911  -- one return per schema form
    """Full names a raw schema refers to (all our references are by full name)."""
    if isinstance(schema, str):
        return set() if schema in PRIMITIVES else {schema}
    if isinstance(schema, list):
        return set().union(*(_references(s) for s in schema))
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "record":
            return set().union(*(_references(f["type"]) for f in schema["fields"]))
        if kind == "array":
            return _references(schema["items"])
        if kind == "map":
            return _references(schema["values"])
        if isinstance(kind, str | list | dict) and kind not in ("enum", "fixed"):
            return _references(kind)
    return set()


def load_raw() -> dict[str, dict[str, Any]]:
    """Every current ``.avsc`` by full name (the ``published/`` folder is not read)."""
    raw = {}
    for path in sorted(SCHEMA_DIR.glob("*.avsc")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        raw[f"{schema['namespace']}.{schema['name']}"] = schema
    return raw


def dependency_order(raw: dict[str, dict[str, Any]]) -> list[str]:
    """Full names ordered so that each comes after everything it refers to."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise AssertionError(f"reference cycle through {name}")
        visiting.add(name)
        for dep in sorted(_references(raw[name])):
            visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in sorted(raw):
        visit(name)
    return order


def expand(name: str, raw: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Inline named types at first use, refer to them by full name afterwards."""
    seen: set[str] = set()

    def walk(schema: Any) -> Any:
        if isinstance(schema, str):
            if schema in PRIMITIVES or schema in seen:
                return schema
            seen.add(schema)
            return walk(copy.deepcopy(raw[schema]))
        if isinstance(schema, list):
            return [walk(s) for s in schema]
        if isinstance(schema, dict):
            out = dict(schema)
            if out.get("type") in ("record", "enum", "fixed"):
                seen.add(f"{out['namespace']}.{out['name']}")
            if out.get("type") == "record":
                out["fields"] = [{**f, "type": walk(f["type"])} for f in out["fields"]]
            elif out.get("type") == "array":
                out["items"] = walk(out["items"])
            elif out.get("type") == "map":
                out["values"] = walk(out["values"])
            return out
        return schema

    seen.add(name)
    result: dict[str, Any] = walk(copy.deepcopy(raw[name]))
    return result


@pytest.fixture(scope="session")
def raw_schemas() -> dict[str, dict[str, Any]]:
    return load_raw()


@pytest.fixture(scope="session")
def parsed_schemas(raw_schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every schema parsed by fastavro in dependency order, sharing ``named_schemas``."""
    named: dict[str, Any] = {}
    parsed = {}
    for name in dependency_order(raw_schemas):
        parsed[name] = parse_schema(raw_schemas[name], named_schemas=named)
    return parsed


@pytest.fixture(scope="session")
def expanded(raw_schemas: dict[str, dict[str, Any]]) -> Expand:
    """``expanded(fullname)`` -> self-contained schema dict, parseable on its own."""

    def get(name: str) -> dict[str, Any]:
        return expand(name, raw_schemas)

    return get
