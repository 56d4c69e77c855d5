"""The base model and small shared types of the exchange models.

Models use the Avro field names (camelCase) as attribute names, so there is no alias layer
between a model, its JSON and its Avro record.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from exchange.models.identifiers import AwareDatetime

#: An identifier assigned by an agency (case number, rescue id, ...): 1-64 characters without
#: whitespace. Used as a Kafka record key, so it must be stable and printable.
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^\S+$")]

#: A required free-text field: at least one non-blank character.
Text = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]


class ExchangeModel(BaseModel):
    """Base of every exchange model: immutable, and unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


_T = TypeVar("_T")

#: Clock skew tolerated between an agency's clock and the time it reports.
CLOCK_SKEW = timedelta(minutes=5)

def not_after_report(what: str, when: AwareDatetime, reported: AwareDatetime) -> None:
    if when > reported + CLOCK_SKEW:
        raise PydanticCustomError(
            "chronology",
            "{what} {when} is after reportedAt {reported}; an event cannot report the future",
            {"what": what, "when": when.isoformat(), "reported": reported.isoformat()},
        )

def non_empty(items: tuple[_T, ...]) -> tuple[_T, ...]:
    # Not Field(min_length=1): pydantic then also reports "too_short" when an item is invalid.
    if not items:
        raise PydanticCustomError("too_short", "at least one item is required")
    return items
