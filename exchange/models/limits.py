"""The limits every event obeys, as data: the one list the documents are written from.

Each limit is enforced where its constant is defined (:mod:`~exchange.models.text_rules`,
:mod:`~exchange.models.identifiers`, the identifier types of :mod:`~exchange.models.base` and
:mod:`~exchange.models.common`); here they are only collected, with the rule an error names
when the limit is broken. The schema docs (``schemas/avro/``, each event record's ``doc`` ends
with :func:`limits_sentence`), the gateway's OpenAPI document, the AsyncAPI document and the
docs site are written from :data:`EVENT_LIMITS`; ``tests/models/test_limits.py`` checks that
each documented value is the one enforced, and that the ``.avsc`` docs say the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange.models.base import MAX_IDENTIFIER
from exchange.models.common import MAX_AGENCY_ID, MAX_UNIT_ID
from exchange.models.identifiers import EARLIEST_TIME, LATEST_AHEAD
from exchange.models.text_rules import FORBIDDEN_CHARACTERS, MAX_EVENT_BYTES, MAX_TEXT

__all__ = ["EVENT_LIMITS", "Limit", "limits_sentence"]


@dataclass(frozen=True)
class Limit:
    """One limit: what it applies to, its bound as a value and in words, and the rule (the
    ``rule`` of the field error) that refuses what breaks it. ``json_only``: checked where
    events arrive as JSON (CLI, gateway, connectors), not on Avro records read from Kafka."""

    name: str
    applies_to: str
    value: int | float | str
    bound: str
    rule: str
    json_only: bool = False

    def as_json(self) -> dict[str, int | float | str]:
        return {"name": self.name, "appliesTo": self.applies_to, "value": self.value,
                "bound": self.bound, "rule": self.rule}


EVENT_LIMITS: tuple[Limit, ...] = (
    Limit("text-length", "every text field", MAX_TEXT,
          f"at most {MAX_TEXT} characters", "text_too_long"),
    Limit("text-characters", "every text field", FORBIDDEN_CHARACTERS,
          "no control characters (tab and line breaks allowed), no bidirectional or "
          "zero-width formatting characters", "text_forbidden_character"),
    Limit("identifier-length", "identifiers (case, report, sighting ids) and document numbers",
          MAX_IDENTIFIER, f"1 to {MAX_IDENTIFIER} characters, no whitespace",
          "string_too_long"),
    Limit("agency-id-length", "agencyId", MAX_AGENCY_ID,
          f"at most {MAX_AGENCY_ID} characters", "string_too_long"),
    Limit("unit-id-length", "unitId", MAX_UNIT_ID,
          f"at most {MAX_UNIT_ID} characters", "string_too_long"),
    Limit("time-earliest", "every time", EARLIEST_TIME.date().isoformat(),
          f"not before {EARLIEST_TIME.date().isoformat()} (UTC)", "time_too_early"),
    Limit("time-ahead-days", "every time", LATEST_AHEAD.days,
          f"not more than {LATEST_AHEAD.days} days after now", "time_too_late"),
    Limit("time-offset", "every time", "RFC 3339",
          "with a UTC offset (e.g. +08:00)", "timezone_aware"),
    Limit("event-bytes", "the whole event as JSON (UTF-8)", MAX_EVENT_BYTES,
          f"at most {MAX_EVENT_BYTES} bytes", "event_too_large", json_only=True),
)
"""Every limit of an event, in the order the documents list them."""


def limits_sentence(limits: tuple[Limit, ...] = EVENT_LIMITS) -> str:
    """``limits`` in one sentence (the event's limits: as the schema docs end with it)."""
    grouped: dict[str, list[str]] = {}
    for limit in limits:
        grouped.setdefault(limit.applies_to, []).append(limit.bound)
    parts = "; ".join(f"{what}: {', '.join(bounds)}" for what, bounds in grouped.items())
    return f"Limits: {parts}."
