"""One catalogue of malformed inputs, for every entry point (see test_malformed_catalogue.py).

Each row breaks one rule of a valid transport sighting (reported by ``transport``) and names
the field and rule every entry point must report. ``theirs`` marks the rows whose handling is
the gateway/file-drop/CLI-traceback work of the other hardening branch (issue 13, defects 4-6):
until it lands they are expected failures at those entry points.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from exchange.examples import example_json

Json = dict[str, Any]


@dataclass(frozen=True)
class Row:
    id: str
    break_it: Callable[[Json], Any]
    field: str
    rule: str
    #: entry points where the row is someone else's fix (expected to fail until it lands)
    theirs: frozenset[str] = field(default_factory=frozenset)
    #: False when the break cannot be written in Avro (types), so no consumer can receive it
    in_avro: bool = True


def _set(path: str, value: Any) -> Callable[[Json], Json]:
    def apply(data: Json) -> Json:
        node = data
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value
        return data

    return apply


def _without(name: str) -> Callable[[Json], Json]:
    def apply(data: Json) -> Json:
        del data[name]
        return data

    return apply


def _nested(data: Json) -> Json:
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    data["situation"] = deep
    return data


CATALOGUE = (
    Row("bool-latitude", _set("location.lat", True), "location.lat", "float_type", in_avro=False),
    Row("text-latitude", _set("location.lat", "34.2"), "location.lat", "float_type",
        in_avro=False),
    Row("latitude-out-of-range", _set("location.lat", 123.0), "location.lat", "wgs84_latitude"),
    Row("number-as-string", _set("reporterStaffId", 12345), "reporterStaffId", "string_type",
        in_avro=False),
    Row("dated-2099", _set("observedAt", "2099-01-01T08:00:00+08:00"), "observedAt",
        "time_too_late"),
    Row("bidi-override", _set("situation", "a child \u202eokay"), "situation",
        "text_forbidden_character"),
    Row("terminal-escape", _set("reporterStaffId", "\x1b[2J"), "reporterStaffId",
        "text_forbidden_character"),
    Row("over-long-text", _set("situation", "x" * 5000), "situation", "text_too_long"),
    Row("unknown-field", _set("extra", 1), "extra", "extra_forbidden", in_avro=False),
    Row("missing-field", _without("reportedAt"), "reportedAt", "missing", in_avro=False),
    Row("sender-of-another-agency", _set("reporter", {"agencyId": "police"}),
        "reporter.agencyId", "sender_identity", in_avro=False),
    Row("deeply-nested", _nested, "", "json_depth", in_avro=False,
        theirs=frozenset({"gateway", "file-drop"})),
)


def broken(row: Row, sighting_id: str) -> Json:
    data = copy.deepcopy(example_json("transport-sighting"))
    data["sightingId"] = sighting_id
    result = row.break_it(data)
    return data if result is None else result
