"""The documented limits are the enforced ones.

Each limit, with the value a document states, is probed against the real validation: a value
at the bound is accepted and one just past it is refused with the documented rule. The same
probes check the limits as written in the ``.avsc`` docs (here), the OpenAPI document
(tests/connectors/adapters/test_http_gateway_limits.py), the AsyncAPI document and the docs
site (their own tests). A limit without a probe fails: a new limit must be probed.
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exchange.clock import using_clock
from exchange.examples import example_json
from exchange.inputs import INPUT_LIMITS, InputError, decode_text, load_json, read_limited
from exchange.models.exceptions import ValidationFailed, validate_event
from exchange.models.limits import EVENT_LIMITS, limits_sentence
from exchange.models.registry import EVENTS
from exchange.models.text_rules import forbidden_character
from exchange.schemas.catalogue import Catalogue

Json = dict[str, Any]
MODEL = EVENTS["transport-sighting"].model


def sighting(**changes: Any) -> Json:
    data = copy.deepcopy(example_json("transport-sighting"))
    data.update(changes)
    return data


def rules(data: Json) -> dict[str, str]:
    """field -> rule of every error (empty when the event is accepted)."""
    try:
        validate_event(MODEL, data)
    except ValidationFailed as error:
        return {e.field: e.rule for e in error.errors}
    return {}


def _text_length(value: Any, rule: str) -> None:
    assert rules(sighting(situation="x" * value)) == {}
    assert rules(sighting(situation="x" * (value + 1))) == {"situation": rule}


def _text_characters(value: Any, rule: str) -> None:
    documented = re.compile(value.encode("ascii").decode("unicode_escape"))
    for point in (*range(0x3000), *range(0xFE00, 0x10000)):
        char = chr(point)
        assert (documented.fullmatch(char) is not None) == (forbidden_character(char) is not None)
    assert rules(sighting(situation="a\u202eb")) == {"situation": rule}
    assert rules(sighting(situation="line one\n\tline two, 西安")) == {}


def _identifier(value: Any, rule: str) -> None:
    assert rules(sighting(sightingId="S" * value)) == {}
    assert rules(sighting(sightingId="S" * (value + 1))) == {"sightingId": rule}


def _agency_id(value: Any, rule: str) -> None:
    agency = "a" * value
    assert rules(sighting(reporter={"agencyId": agency})) == {}
    assert rules(sighting(reporter={"agencyId": agency + "a"})) == {"reporter.agencyId": rule}


def _unit_id(value: Any, rule: str) -> None:
    unit = "transport." + "u" * (value - len("transport."))
    assert rules(sighting(reporter={"agencyId": "transport", "unitId": unit})) == {}
    assert rules(sighting(reporter={"agencyId": "transport", "unitId": unit + "u"})) == {
        "reporter.unitId": rule
    }


def _earliest(value: Any, rule: str) -> None:
    first = datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert "observedAt" not in rules(sighting(observedAt=first.isoformat()))
    before = (first - timedelta(minutes=1)).isoformat()
    assert rules(sighting(observedAt=before)).get("observedAt") == rule


def _ahead(value: Any, rule: str) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    with using_clock(lambda: now):
        at = now + timedelta(days=value)
        assert "observedAt" not in rules(sighting(observedAt=at.isoformat()))
        late = (at + timedelta(minutes=1)).isoformat()
        assert rules(sighting(observedAt=late)).get("observedAt") == rule


def _offset(value: Any, rule: str) -> None:
    assert value == "RFC 3339"
    assert rules(sighting(observedAt="2025-05-18T18:02:00")) == {"observedAt": rule}


def _event_bytes(value: Any, rule: str) -> None:
    data = sighting()
    person = data["suspectedPersons"][0]

    def size(d: Json) -> int:
        return len(json.dumps(d, ensure_ascii=False).encode())

    while size(data) < value - 4000:
        data["suspectedPersons"].append(dict(person, clothing="y" * 3000))
    data["suspectedPersons"].append(dict(person, clothing=""))
    data["suspectedPersons"][-1]["clothing"] = "y" * (value - size(data))
    assert size(data) == value
    assert rules(data) == {}
    data["suspectedPersons"][-1]["clothing"] += "y"
    assert rules(data) == {"": rule}


def _document_bytes(value: Any, rule: str) -> None:
    assert read_limited(io.BytesIO(b"x" * value), "test") == b"x" * value
    with pytest.raises(InputError) as refused:
        read_limited(io.BytesIO(b"x" * (value + 1)), "test")
    assert refused.value.errors[0].rule == rule


def _json_depth(value: Any, rule: str) -> None:
    assert load_json("[" * value + "]" * value) is not None
    with pytest.raises(InputError) as refused:
        load_json("[" * (value + 1) + "]" * (value + 1))
    assert refused.value.errors[0].rule == rule


def _encoding(value: Any, rule: str) -> None:
    assert decode_text("西安".encode(value), value) == "西安"
    with pytest.raises(InputError) as refused:
        decode_text("西安".encode("gbk"), value)
    assert refused.value.errors[0].rule == rule


PROBES: Mapping[str, Callable[[Any, str], None]] = {
    "text-length": _text_length,
    "text-characters": _text_characters,
    "identifier-length": _identifier,
    "agency-id-length": _agency_id,
    "unit-id-length": _unit_id,
    "time-earliest": _earliest,
    "time-ahead-days": _ahead,
    "time-offset": _offset,
    "event-bytes": _event_bytes,
    "document-bytes": _document_bytes,
    "json-depth": _json_depth,
    "encoding": _encoding,
}


def check_documented(limits: Iterable[Mapping[str, Any]]) -> list[str]:
    """Probe each documented limit (``name``, ``value``, ``rule``); the names probed."""
    names = []
    for limit in limits:
        if limit["name"] in PROBES:
            PROBES[limit["name"]](limit["value"], limit["rule"])
            names.append(limit["name"])
    return names


def test_every_limit_has_a_probe() -> None:
    assert {limit.name for limit in (*EVENT_LIMITS, *INPUT_LIMITS)} == set(PROBES)


@pytest.mark.parametrize("limit", [*EVENT_LIMITS, *INPUT_LIMITS], ids=lambda lim: lim.name)
def test_each_limit_is_enforced_at_its_value(limit: Any) -> None:
    assert check_documented([limit.as_json()]) == [limit.name]


MISSED = (AssertionError, pytest.fail.Exception, ValidationFailed)


def test_the_probes_fail_on_a_wrong_value() -> None:
    """A document that states another number than the enforced one is caught."""
    for limit in (*EVENT_LIMITS, *INPUT_LIMITS):
        if isinstance(limit.value, int):
            for wrong in (limit.value - 1, limit.value + 1):
                with pytest.raises(MISSED):
                    PROBES[limit.name](wrong, limit.rule)
        with pytest.raises(MISSED):
            PROBES[limit.name](limit.value, "some_other_rule")


def test_every_schema_doc_states_the_limits() -> None:
    """Each event's ``.avsc`` source and latest published version end with the sentence made
    from the enforced limits (to change a limit: rewrite the docs, then ``schemas freeze``)."""
    catalogue = Catalogue.load()
    sentence = limits_sentence()
    stale = [
        event for event in catalogue.event_types
        if not catalogue.current(event).get("doc", "").endswith(sentence)
        or not catalogue.latest(event).schema.get("doc", "").endswith(sentence)
    ]
    assert stale == [], f"end each event's doc with: {sentence}"
    numbers = {str(limit.value) for limit in EVENT_LIMITS if isinstance(limit.value, int)}
    assert all(number in sentence for number in numbers)
