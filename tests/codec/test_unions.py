"""Union hints change nothing on the wire: every example encodes to the same bytes."""

from __future__ import annotations

import io

import pytest
from fastavro import schemaless_writer

from exchange.codec.unions import union_hinter
from exchange.examples import example_json
from exchange.models.exceptions import validate_event
from exchange.models.registry import EVENTS
from exchange.schemas.catalogue import Catalogue


@pytest.mark.parametrize("name", list(EVENTS))
def test_hinted_and_plain_writes_are_identical(name: str) -> None:
    spec = EVENTS[name]
    version = Catalogue.load().latest(spec.fullname)
    event = validate_event(spec.model, example_json(name))
    plain, hinted = io.BytesIO(), io.BytesIO()
    schemaless_writer(plain, version.parsed, event.model_dump())
    hinter = union_hinter(version.schema)
    data = event.model_dump()
    schemaless_writer(hinted, version.parsed, hinter(data) if hinter else data)
    assert hinted.getvalue() == plain.getvalue()


def test_sighting_facility_union_is_named() -> None:
    version = Catalogue.load().latest("exchange.events.TransportSighting")
    hinter = union_hinter(version.schema)
    assert hinter is not None
    data = hinter({**validate_event(
        EVENTS["transport-sighting"].model, example_json("transport-sighting")
    ).model_dump()})
    assert data["location"]["facility"][0] == "exchange.common.TransportFacility"


def test_schema_without_record_unions_needs_no_hints() -> None:
    schema = {"type": "record", "name": "Flat", "namespace": "t", "fields": [
        {"name": "a", "type": ["null", "string"], "default": None},
        {"name": "b", "type": {"type": "enum", "name": "E", "symbols": ["X"]}},
    ]}
    assert union_hinter(schema) is None
