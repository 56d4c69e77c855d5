"""The base model and small shared types of the exchange models.

Models use the Avro field names (camelCase) as attribute names, so there is no alias layer
between a model, its JSON and its Avro record.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, StringConstraints
from pydantic_core import CoreSchema, core_schema

from exchange.models.identifiers import AwareDatetime
from exchange.models.rule_errors import rule_error
from exchange.models.text_rules import MAX_TEXT, check_text, forbidden_character

#: The longest identifier an agency may assign (and the longest identity document number).
MAX_IDENTIFIER = 64

#: An identifier assigned by an agency (case number, rescue id, ...): 1-64 characters without
#: whitespace. Used as a Kafka record key, so it must be stable and printable.
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_IDENTIFIER, pattern=r"^\S+$")
]

#: A required free-text field: at least one non-blank character.
Text = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]


def _text_rule(value: str) -> str:
    if len(value) > MAX_TEXT or forbidden_character(value) is not None:
        check_text(value)  # raises, naming the rule
    return value


# Keys of a core schema node that hold no validation schema to walk (a model's fields are in
# "schema" -> "fields", a mapping of names, where any name may appear).
_NOT_SCHEMAS = frozenset({"metadata", "serialization", "default", "ref", "cls", "function"})


def with_text_rules(schema: Any, model: type[BaseModel]) -> Any:
    """``schema`` (``model``'s pydantic core schema) with every ``str`` node checked by the text
    rules. Other models met inside are left alone (their own schema carries the rules already);
    a node already wrapped is not wrapped again, so the walk may meet the same schema twice."""
    return _walk(schema, model)


def _done(node: dict[str, Any], kind: object, model: type[BaseModel]) -> bool:
    """Whether ``node`` already has the text rules: wrapped, or another model's schema."""
    if kind == "function-after":
        return node["function"].get("function") is _text_rule
    return kind == "model" and node["cls"] is not model


def _walk(node: Any, model: type[BaseModel]) -> Any:
    if isinstance(node, list):
        return [_walk(item, model) for item in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "str":
        return core_schema.no_info_after_validator_function(_text_rule, cast(CoreSchema, node))
    if _done(node, kind, model):
        return node
    if not isinstance(kind, str):  # a mapping of names (a model's fields), not a schema node
        return {key: _walk(value, model) for key, value in node.items()}
    return {
        key: value if key in _NOT_SCHEMAS else _walk(value, model) for key, value in node.items()
    }


class ExchangeModel(BaseModel):
    """Base of every exchange model: immutable, and unknown fields are errors; every text
    (in a field, a list of them, at any depth) obeys :mod:`exchange.models.text_rules`.

    The text rules are attached to the ``str`` nodes of the model's validation schema when the
    schema is built (:func:`with_text_rules`), so that only text values pay for them: a
    validator on every field ("*") cost one Python call per field of every event decoded.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[BaseModel], handler: GetCoreSchemaHandler, /
    ) -> CoreSchema:
        return cast(CoreSchema, with_text_rules(handler(source), source))


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
