"""Schema evolution rules, checked with the ``avro`` package's compatibility checker.

The rule of the exchange is *backward transitive*: every version of an event can read data
written with every earlier version, and so can the current (unpublished) source. A consumer that
upgrades therefore reads the whole history of a topic; a producer may upgrade first or last.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from exchange.schemas.catalogue import Catalogue
from exchange.schemas.exceptions import SchemaError

__all__ = ["EventReport", "Report", "check_catalogue", "check_compatible"]


def _avro_parse(schema: dict[str, Any]) -> avro.schema.Schema:
    with warnings.catch_warnings():
        # The avro package warns about attributes it does not know (our "sensitivity" tags).
        warnings.simplefilter("ignore")
        return avro.schema.parse(json.dumps(schema))


def check_compatible(reader: dict[str, Any], writer: dict[str, Any]) -> list[str]:
    """Why ``reader`` cannot read data written with ``writer``; empty when it can."""
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(_avro_parse(reader), _avro_parse(writer))
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    kinds = ", ".join(sorted({kind.value for kind in result.incompatibilities}))
    where = ", ".join(sorted(result.locations))
    # The checker merges the findings of all fields, so kinds, places and messages are listed
    # side by side rather than paired.
    messages = ", ".join(sorted(result.messages)) or "incompatible"
    return [f"{kinds} at {where}: {messages}"]


@dataclass(frozen=True)
class EventReport:
    """Findings for one event type."""

    event_type: str
    versions: tuple[int, ...]
    problems: tuple[str, ...] = ()
    #: The current source differs from the latest published version: run ``freeze``.
    unpublished_change: bool = False
    has_source: bool = True


@dataclass(frozen=True)
class Report:
    """Result of :func:`check_catalogue`."""

    events: tuple[EventReport, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """No incompatibility (an unpublished change alone is not a problem here)."""
        return not any(event.problems for event in self.events)

    @property
    def problems(self) -> list[str]:
        return [problem for event in self.events for problem in event.problems]

    @property
    def unpublished(self) -> list[str]:
        """Event types whose current source needs a new published version."""
        return [event.event_type for event in self.events if event.unpublished_change]


def _check_event(catalogue: Catalogue, event_type: str) -> EventReport:
    versions = catalogue.versions(event_type)
    problems: list[str] = []
    for index, reader in enumerate(versions):
        for writer in versions[:index]:
            for detail in check_compatible(reader.schema, writer.schema):
                problems.append(f"{reader.label} cannot read {writer.label}: {detail}")
    if event_type not in catalogue.sources:
        return EventReport(
            event_type, tuple(v.version for v in versions), tuple(problems), has_source=False
        )
    try:
        current = catalogue.current(event_type)
    except SchemaError as exc:
        problems.append(str(exc))
        return EventReport(event_type, tuple(v.version for v in versions), tuple(problems))
    for writer in versions:
        for detail in check_compatible(current, writer.schema):
            problems.append(f"{event_type} current source cannot read {writer.label}: {detail}")
    unpublished = not versions or versions[-1].schema != current
    return EventReport(event_type, tuple(v.version for v in versions), tuple(problems), unpublished)


def check_catalogue(catalogue: Catalogue) -> Report:
    """Backward-transitive compatibility of every event's published versions and current source."""
    return Report(tuple(_check_event(catalogue, name) for name in catalogue.event_types))
