"""The base model and small shared types of the exchange models.

Models use the Avro field names (camelCase) as attribute names, so there is no alias layer
between a model, its JSON and its Avro record.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from exchange.models.identifiers import AwareDatetime
from exchange.models.rule_errors import rule_error
from exchange.models.text_rules import check_text

#: The longest identifier an agency may assign (and the longest identity document number).
MAX_IDENTIFIER = 64

#: An identifier assigned by an agency (case number, rescue id, ...): 1-64 characters without
#: whitespace. Used as a Kafka record key, so it must be stable and printable.
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_IDENTIFIER, pattern=r"^\S+$")
]

#: A required free-text field: at least one non-blank character.
Text = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]


class ExchangeModel(BaseModel):
    """Base of every exchange model: immutable, and unknown fields are errors; every text
    (in a field, or a list of them) obeys :mod:`exchange.models.text_rules`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _text_rules(cls, value: Any) -> Any:
        if isinstance(value, str):
            check_text(value)
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, str):
                    check_text(item)
        return value


_T = TypeVar("_T")

#: Clock skew tolerated between an agency's clock and the time it reports.
CLOCK_SKEW = timedelta(minutes=5)

def not_after_report(what: str, when: AwareDatetime, reported: AwareDatetime) -> None:
    if when > reported + CLOCK_SKEW:
        raise rule_error(
            "chronology",
            f"{what} {when.isoformat()} is after reportedAt {reported.isoformat()}; an event "
            "cannot report the future",
        )

def non_empty(items: tuple[_T, ...]) -> tuple[_T, ...]:
    # Not Field(min_length=1): pydantic then also reports "too_short" when an item is invalid.
    if not items:
        raise rule_error("too_short", "at least one item is required")
    return items
