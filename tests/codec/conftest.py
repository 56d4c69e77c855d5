"""A small catalogue (frozen into a tmp dir) with pydantic models and a registry for it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from exchange.codec import EventCodec
from exchange.schemas import Catalogue, freeze

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
        {"name": "colour", "type": "Colour", "doc": "An enum."},
        {"name": "count", "type": "long", "doc": "A number (the model allows only 0..100)."},
        {"name": "here", "type": "exchange.common.Place", "doc": "Where."},
        {
            "name": "there",
            "type": ["null", "exchange.common.Place"],
            "default": None,
            "doc": "Maybe.",
        },
        {"name": "tags", "type": {"type": "array", "items": "string"}, "doc": "Tags."},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "When."},
    ],
}
PONG: dict[str, Any] = {
    "type": "record",
    "name": "Pong",
    "namespace": "exchange.events",
    "doc": "An event that is never published.",
    "fields": [{"name": "caseId", "type": "string", "doc": "Case key."}],
}


class Colour(StrEnum):
    RED = "RED"
    GREEN = "GREEN"
    BLUE = "BLUE"


class Place(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    lat: float
    lon: float


class Ping(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    caseId: str  # noqa: N815 - Avro field names
    colour: Colour
    count: int = Field(ge=0, le=100)
    here: Place
    there: Place | None = None
    tags: list[str]
    at: datetime


class Pong(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    caseId: str  # noqa: N815 - Avro field names


@dataclass(frozen=True)
class Spec:
    name: str
    fullname: str
    model: type[BaseModel]

    def key(self, event: Any) -> str:
        return str(event.caseId)


class Registry:
    def __init__(self, *specs: Spec) -> None:
        self._specs = specs

    def spec_for(self, name_or_fullname: str) -> Spec:
        for spec in self._specs:
            if name_or_fullname in (spec.name, spec.fullname):
                return spec
        raise KeyError(name_or_fullname)

    def spec_for_model(self, model_cls: type[BaseModel]) -> Spec:
        for spec in self._specs:
            if spec.model is model_cls:
                return spec
        raise KeyError(model_cls)


REGISTRY = Registry(
    Spec("Ping", "exchange.events.Ping", Ping), Spec("Pong", "exchange.events.Pong", Pong)
)


def write_schema(root: Path, schema: dict[str, Any]) -> None:
    path = root / f"{schema['namespace']}.{schema['name']}.avsc"
    path.write_text(json.dumps(schema), encoding="utf-8")


@pytest.fixture
def schema_dir(tmp_path: Path) -> Path:
    root = tmp_path / "avro"
    root.mkdir()
    for schema in (PLACE, COLOUR, PING):
        write_schema(root, schema)
    freeze(root)
    write_schema(root, PONG)  # a source, never frozen
    return root


@pytest.fixture
def catalogue(schema_dir: Path) -> Catalogue:
    return Catalogue.load(schema_dir)


@pytest.fixture
def codec(catalogue: Catalogue) -> EventCodec:
    return EventCodec(catalogue, registry=REGISTRY)
