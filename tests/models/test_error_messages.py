"""No message the models can produce prints its own placeholders (``{unit!r}``, ``{{``).

Every validator is driven with bad input: every field of every example event is, in turn,
replaced by each value of a catalogue of wrong values (and removed), and every message of every
error is checked. The catalogue holds values that trip the cross-field rules too (a unit of
another agency, a foreign issuer of a resident ID, a birth date or sex other than the ID's, a
time after the report, statuses that need a reason).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest

from exchange.examples import EXAMPLES, example_json
from exchange.models.exceptions import ValidationFailed, validate_event
from exchange.models.registry import EVENTS

WRONG: tuple[Any, ...] = (
    "", " ", "x", "USA", "CHN", "police.other-unit", "2000-01-01", "2099-01-01T00:00:00+08:00",
    "1970-01-01T00:00:00Z", "MALE", "FEMALE", "DECLINED", "TRANSFERRED", "ISSUED", "MINOR",
    "DNA_SAMPLE_COLLECTED", "WELFARE_INTAKE", "DISTRICT_OFFICE", 0, -1, 10**12, 1.5, True,
    False, None, [], {},
)

#: A placeholder left in a message: ``{name}``, ``{name!r}``, ``{name:>3}``, or an escape.
PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*(![rsa])?(:[^{}]*)?\}|\{\{|\}\}")


def leaves(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*path, key)
            yield from leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield (*path, index)
            yield from leaves(value, (*path, index))


def broken(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(data)
    node: Any = copied
    for step in path[:-1]:
        node = node[step]
    if value is _REMOVE and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = None if value is _REMOVE else value
    return copied


_REMOVE = object()


def messages(name: str) -> Iterator[tuple[str, str]]:
    data = example_json(name)
    model = EVENTS[name].model
    for path in leaves(data):
        for value in (*WRONG, _REMOVE):
            for strict in (True, False):
                try:
                    validate_event(model, broken(data, path, value), strict=strict)
                except ValidationFailed as error:
                    where = ".".join(map(str, path))
                    yield where, str(error)
                    for one in error.errors:
                        yield where, one.message


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_no_message_prints_a_placeholder(name: str) -> None:
    seen = 0
    for where, message in messages(name):
        seen += 1
        assert not PLACEHOLDER.search(message), f"{name}, {where} broken: {message}"
    assert seen > 0


def test_the_rules_that_printed_placeholders_now_print_their_values() -> None:
    found = [m for _, m in messages("rescue")]
    unit = re.compile(
        r"unitId '[^']+' must start with the agencyId followed by a dot \('[^']+\.'\)"
    )
    assert any(unit.search(m) for m in found)
    assert any("is issued by 'CHN', got 'USA'" in m for m in found)
