"""Sensitive fields, found by the ``sensitivity`` attribute of Avro fields.

A field may carry ``"sensitivity": ["identity", "minor", ...]``; redaction, encryption and
minimisation are driven by these tags, never by hand-written field lists. A tag on a field covers
its whole value: tags of a record-typed field are inherited by every field under it, so that the
name of a missing child (``missingPerson.name``) is tagged both ``identity`` and ``minor``.

Tags (PIPL Art. 28 sensitive categories, plus contact and family data):

- ``identity``  names, ID numbers, documents, photos, identifying marks
- ``minor``     data that may be about a child
- ``health``    medical and psychological condition or needs
- ``location``  whereabouts of a person
- ``contact``   phone numbers, addresses, household registration place
- ``family``    family members and family situation
"""

from __future__ import annotations

from typing import Any, Final

from exchange.errors import ExchangeError
from exchange.models._avro import Names

__all__ = ["SENSITIVITY_TAGS", "UnknownSensitivityTagError", "sensitive_paths"]

SENSITIVITY_TAGS: Final = frozenset(
    {"identity", "minor", "health", "location", "contact", "family"}
)


class UnknownSensitivityTagError(ExchangeError, ValueError):
    """A schema field carries a tag outside :data:`SENSITIVITY_TAGS`: fix the schema."""

    def __init__(self, path: str, tag: object) -> None:
        self.path = path
        self.tag = tag
        super().__init__(
            f"field {path!r} has unknown sensitivity tag {tag!r}; "
            f"use one of {sorted(SENSITIVITY_TAGS)}"
        )


def sensitive_paths(schema: dict[str, Any]) -> dict[str, frozenset[str]]:
    """Map dotted field paths of an expanded record schema to their sensitivity tags.

    Only paths tagged themselves or lying under a tagged field appear; array items are marked by
    ``[]`` (``victims[].person.name``). Each path's tags include those inherited from ancestors.
    """
    found: dict[str, frozenset[str]] = {}
    _walk(schema, "", frozenset(), Names(schema), "", found, ())
    return found


def _walk(  # noqa: PLR0917 -- recursive helper, positional for brevity
    schema: Any,
    namespace: str,
    inherited: frozenset[str],
    names: Names,
    path: str,
    found: dict[str, frozenset[str]],
    stack: tuple[str, ...],
) -> None:
    if isinstance(schema, list):
        for branch in schema:
            _walk(branch, namespace, inherited, names, path, found, stack)
        return
    schema, namespace = names.resolve(schema, namespace)
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if kind == "array":
        _walk(schema["items"], namespace, inherited, names, f"{path}[]", found, stack)
    elif kind == "map":
        _walk(schema["values"], namespace, inherited, names, f"{path}{{}}", found, stack)
    elif kind in ("record", "error"):
        me = f"{namespace}.{schema['name'].rpartition('.')[2]}"
        if me in stack:  # recursive type: its fields are already listed above
            return
        for field in schema.get("fields", []):
            field_path = f"{path}.{field['name']}" if path else str(field["name"])
            own = field.get("sensitivity", [])
            for tag in own:
                if tag not in SENSITIVITY_TAGS:
                    raise UnknownSensitivityTagError(field_path, tag)
            tags = inherited | frozenset(own)
            if tags:
                found[field_path] = tags
            _walk(field["type"], namespace, tags, names, field_path, found, (*stack, me))
