"""Every text of every event refuses control, bidirectional and zero-width characters and
over-long values; a whole event has a size limit; times far ahead or long past are refused."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exchange.clock import using_clock
from exchange.examples import EXAMPLES, example_json
from exchange.models.exceptions import InvalidIdentifier, ValidationFailed, validate_event
from exchange.models.identifiers import LATEST_AHEAD, check_resident_id, resident_id_check_char
from exchange.models.registry import EVENTS
from exchange.models.text_rules import MAX_EVENT_BYTES, MAX_TEXT, escape_for_terminal

BAD = ["\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\x1b[2J", "\x00", "\x7f", "\x9b"]


def text_leaves(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(data, str):
        yield path
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from text_leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from text_leaves(value, (*path, index))


def put(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(data)
    node: Any = copied
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copied


def rules_at(name: str, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        validate_event(EVENTS[name].model, data)
    return {e.field: e.rule for e in caught.value.errors}


def is_enum_or_time(name: str, path: tuple[Any, ...]) -> bool:
    """Fields whose text is parsed (times, dates, enum values): another rule refuses them."""
    data = example_json(name)
    try:
        validate_event(EVENTS[name].model, put(data, path, "zz-not-a-value"))
    except ValidationFailed as error:
        return any(e.rule != "text_forbidden_character" for e in error.errors)
    return False


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_refused_characters_in_any_text_field(name: str) -> None:
    data = example_json(name)
    checked = 0
    for path in text_leaves(data):
        where = ".".join(map(str, path))
        original = data
        for step in path:
            original = original[step]
        for bad in BAD:
            rules = rules_at(name, put(data, path, f"{original[:1]}{bad}{original[1:]}"))
            # a list of texts is refused as the list
            at = where if where in rules else ".".join(map(str, path[:-1]))
            assert at in rules, (where, repr(bad))
            if not is_enum_or_time(name, path):
                assert rules[at] in ("text_forbidden_character", "string_pattern_mismatch"), (
                    where, rules)
        checked += 1
    assert checked > 0


def test_line_breaks_stay_allowed_in_free_text() -> None:
    data = example_json("transport-sighting")
    data["situation"] = "two adults, one child\nthe child was crying"
    validate_event(EVENTS["transport-sighting"].model, data)


def test_text_and_event_sizes_are_limited() -> None:
    data = example_json("transport-sighting")
    data["situation"] = "x" * (MAX_TEXT + 1)
    assert rules_at("transport-sighting", data) == {"situation": "text_too_long"}
    data = example_json("transport-sighting")
    data["suspectedPersons"] = [
        {**data["suspectedPersons"][0], "clothing": "y" * 3000}
    ] * (MAX_EVENT_BYTES // 3000 + 1)
    assert rules_at("transport-sighting", data) == {"": "event_too_large"}


@pytest.mark.parametrize(("when", "rule"), [
    ("2099-01-01T08:00:00+08:00", "time_too_late"),  # a sighting dated 2099
    ("1800-01-01T08:00:00+08:00", "time_too_early"),
    ("0001-01-01T00:00:00Z", "time_too_early"),
])
def test_times_far_ahead_or_long_past_are_refused(when: str, rule: str) -> None:
    data = example_json("transport-sighting")
    data["observedAt"] = when
    assert rules_at("transport-sighting", data)["observedAt"] == rule


def test_the_time_bounds_follow_the_installed_clock() -> None:
    """The bounds read :func:`exchange.clock.now`: with a clock installed, "a year ahead" is a
    year ahead of that clock, to the minute, and nowhere else is the wall clock read."""
    at = datetime(2090, 6, 1, 12, 0, tzinfo=UTC)
    data = example_json("transport-sighting")
    with using_clock(lambda: at):
        data["observedAt"] = (at + LATEST_AHEAD - timedelta(minutes=1)).isoformat()
        assert rules_at("transport-sighting", data).get("observedAt") != "time_too_late"
        data["observedAt"] = (at + LATEST_AHEAD + timedelta(minutes=1)).isoformat()
        assert rules_at("transport-sighting", data)["observedAt"] == "time_too_late"
    # outside the block the real clock holds again: 2090 is far ahead
    data["observedAt"] = at.isoformat()
    assert rules_at("transport-sighting", data)["observedAt"] == "time_too_late"


def test_a_birth_date_after_the_clocks_today_is_refused() -> None:
    number = "11010520150307001X"  # born 2015-03-07, checked only against "today"
    number = number[:17] + resident_id_check_char(number[:17])
    assert check_resident_id(number) == number
    day_before = datetime(2015, 3, 6, 15, 59, tzinfo=UTC)  # 23:59 in Beijing
    with using_clock(lambda: day_before), pytest.raises(InvalidIdentifier) as refused:
        check_resident_id(number)
    assert refused.value.rule == "gb11643_birth_date"
    with using_clock(lambda: datetime(2015, 3, 6, 16, 0, tzinfo=UTC)):  # 00:00, 7 March
        assert check_resident_id(number) == number


def test_tail_output_never_carries_the_characters_raw() -> None:
    line = json.dumps({"ce": {"source": "/a\u202egnp.exe", "id": "\x1b]0;pwned\x07"}},
                      ensure_ascii=False)
    shown = escape_for_terminal(line)
    assert json.loads(shown) == json.loads(line)
    assert all(ch not in shown for ch in ("\u202e", "\x1b", "\x07"))
