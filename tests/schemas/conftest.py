"""Small schema folders written into tmp dirs, independent of the project's real schemas."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PLACE: dict[str, Any] = {
    "type": "record",
    "name": "Place",
    "namespace": "exchange.common",
    "doc": "A place.",
    "fields": [
        {"name": "lat", "type": "double", "doc": "Latitude, WGS84."},
        {"name": "lon", "type": "double", "doc": "Longitude, WGS84."},
    ],
}
COLOUR: dict[str, Any] = {
    "type": "enum",
    "name": "Colour",
    "namespace": "exchange.events",
    "doc": "A colour.",
    "symbols": ["RED", "GREEN", "BLUE"],
}
PING: dict[str, Any] = {
    "type": "record",
    "name": "Ping",
    "namespace": "exchange.events",
    "doc": "A test event.",
    "fields": [
        {"name": "caseId", "type": "string", "doc": "Case key."},
        {"name": "colour", "type": "Colour", "doc": "Short-name reference in the same namespace."},
        {
            "name": "here",
            "type": "exchange.common.Place",
            "doc": "Where.",
            "sensitivity": ["location"],
        },
        {
            "name": "there",
            "type": ["null", "exchange.common.Place"],
            "default": None,
            "doc": "Second use.",
        },
        {
            "name": "at",
            "type": {"type": "long", "logicalType": "timestamp-millis"},
            "doc": "When.",
        },
    ],
}
PONG: dict[str, Any] = {
    "type": "record",
    "name": "Pong",
    "namespace": "exchange.events",
    "doc": "Another test event.",
    "fields": [
        {"name": "caseId", "type": "string", "doc": "Case key."},
        {
            "name": "places",
            "type": {"type": "array", "items": "exchange.common.Place"},
            "doc": "Places.",
        },
    ],
}

SchemaWriter = Callable[..., Path]


def write_schema(root: Path, schema: dict[str, Any]) -> Path:
    fullname = f"{schema['namespace']}.{schema['name']}"
    path = root / f"{fullname}.avsc"
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def schema_dir(tmp_path: Path) -> Path:
    root = tmp_path / "avro"
    root.mkdir()
    for schema in (PLACE, COLOUR, PING, PONG):
        write_schema(root, schema)
    return root
