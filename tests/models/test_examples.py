"""The examples are valid, realistic, and survive Avro encoding with the real schemas."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer

from exchange.examples import EXAMPLES, example, example_json
from exchange.models.identifiers import is_valid_resident_id, is_valid_social_credit_code
from exchange.models.registry import EVENTS

Expand = Callable[[str], dict[str, Any]]


@pytest.mark.parametrize("name", list(EVENTS))
def test_json_shape(name: str) -> None:
    data = example_json(name)
    text = json.dumps(data, ensure_ascii=False)
    assert "+08:00" in text
    assert "null" not in text  # unset optional fields are left out
    assert EVENTS[name].model.model_validate(data) == example(name)


@pytest.mark.parametrize("name", list(EVENTS))
def test_avro_round_trip(name: str, expanded: Expand) -> None:
    spec = EVENTS[name]
    schema = parse_schema(expanded(spec.fullname))
    event = EXAMPLES[name]()
    buffer = io.BytesIO()
    schemaless_writer(buffer, schema, event.model_dump())
    buffer.seek(0)
    decoded: dict[str, Any] = schemaless_reader(buffer, schema, schema)  # type: ignore[assignment]
    assert spec.model.model_validate(decoded) == event


def test_personal_data_is_marked_fictional() -> None:
    assert "(fictional)" in example_json("missing-person-report")["missingPerson"]["name"]
    victim = example_json("rescue")["victims"][0]["person"]
    assert "(fictional)" in victim["name"]
    assert "(fictional)" in example_json("intermediary-revocation")["name"]


def test_identifiers_carry_valid_check_characters() -> None:
    child = example_json("missing-person-report")["missingPerson"]["documents"][0]["number"]
    assert is_valid_resident_id(child)
    assert is_valid_social_credit_code(
        example_json("intermediary-revocation")["unifiedSocialCreditCode"]
    )


def test_sighting_at_xian_north_on_g87() -> None:
    location = example_json("transport-sighting")["location"]
    assert (location["lat"], location["lon"]) == (34.3773, 108.9393)
    assert location["facility"]["code"] == "G87"
    assert location["facility"]["nextStop"]
