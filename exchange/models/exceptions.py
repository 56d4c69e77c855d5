"""Validation errors of the exchange models.

Branch of the error tree (root in :mod:`exchange.errors`)::

    ExchangeError
    └── ValidationFailed          (also a ValueError)
        └── InvalidIdentifier     one identifier or value broke one standard's rule

Both carry ``.errors``, a list of :class:`FieldError` naming the field (dotted path such as
``victims.0.person.documents.0.number``), the rule (e.g. ``gb11643_check_char``) and a message,
so that a CLI, an HTTP endpoint or a dead-letter header can report exactly what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from exchange.errors import ExchangeError
from exchange.models.text_rules import MAX_EVENT_BYTES

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class FieldError:
    """One broken rule at one field.

    ``field`` is the dotted path from the event root (list items by index); empty for a
    value checked on its own. ``rule`` is a stable identifier: one of ours (``gb11643_*``,
    ``gb32100_*``, ``gbt2260_*``, ``wgs84_*``, ``timezone_aware``, ...) or pydantic's error type
    (``missing``, ``enum``, ``extra_forbidden``, ``string_type``, ...).
    """

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = self.field or "<value>"
        return f"{where}: {self.message} [{self.rule}]"


class ValidationFailed(ExchangeError, ValueError):  # noqa: N818  -- name fixed by exchange/errors.py
    """Input does not satisfy an event's contract; ``errors`` lists every broken rule."""

    def __init__(self, errors: list[FieldError], *, model: str | None = None) -> None:
        self.errors = errors
        self.model = model
        what = f"invalid {model}" if model else "invalid input"
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(
            f"{what}: {len(errors)} error(s); fix the named field(s) and send again\n{lines}"
        )


class InvalidIdentifier(ValidationFailed):
    """A single value breaks a standard (GB 11643, GB 32100, GB/T 2260, WGS84, ...)."""

    def __init__(self, rule: str, message: str, value: object = None) -> None:
        self.rule = rule
        self.value = value
        super().__init__([FieldError(field="", rule=rule, message=message)])
        self.args = (message,)

    def __str__(self) -> str:
        return f"{self.errors[0].message} [{self.rule}]"


def field_errors(error: PydanticValidationError) -> list[FieldError]:
    """Translate pydantic's errors into :class:`FieldError` s (never echoing the input value)."""
    return [
        FieldError(
            field=".".join(str(part) for part in err["loc"]),
            rule=err["type"],
            message=err["msg"],
        )
        for err in error.errors(include_url=False, include_input=False)
    ]


def validate_event(model_cls: type[M], data: Mapping[str, Any], *, strict: bool = True) -> M:
    """Validate ``data`` (JSON-shaped or Python values) as ``model_cls``.

    Strict by default, as JSON is: a number is a JSON number (``true`` is no latitude, ``"30"``
    is no age), a string is a JSON string, a boolean is ``true`` or ``false``; times, dates and
    enum values are their JSON text. ``strict=False`` is for text-only input (CSV cells), whose
    numbers and booleans can only be text. Avro records are typed by their schema and are
    validated by the codec, not here.

    Raises :class:`ValidationFailed` listing every broken rule with its dotted field path.
    """
    try:
        text = json.dumps(data, default=_json_value, ensure_ascii=False, allow_nan=False)
    except ValueError:  # NaN or infinity: JSON has neither
        raise ValidationFailed(
            [FieldError("", "json_number", "NaN and Infinity are not JSON numbers")],
            model=model_cls.__name__,
        ) from None
    except RecursionError:
        raise ValidationFailed(
            [FieldError("", "json_depth", "the event is nested too deeply")],
            model=model_cls.__name__,
        ) from None
    size = len(text.encode())
    if size > MAX_EVENT_BYTES:
        raise ValidationFailed(
            [FieldError("", "event_too_large", f"at most {MAX_EVENT_BYTES} bytes as JSON, "
                        f"got {size}")],
            model=model_cls.__name__,
        )
    try:
        if not strict:
            return model_cls.model_validate(data)
        return model_cls.model_validate_json(text, strict=True)
    except PydanticValidationError as exc:
        raise ValidationFailed(field_errors(exc), model=model_cls.__name__) from None


def _json_value(value: object) -> object:
    """Python values a caller may give in place of their JSON text."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
