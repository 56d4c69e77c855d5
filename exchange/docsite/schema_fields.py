"""An event schema as a flat list of documented fields, for the event pages.

Each row is one field at its dotted path (``victims[].person.name``) with its Avro type in
words, its ``doc``, its own ``sensitivity`` tags and the tags it inherits from enclosing fields
(a tag on a record covers everything inside it, as the sealing code reads it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_NAMED = frozenset({"record", "enum", "fixed"})


@dataclass(frozen=True)
class FieldRow:
    path: str
    type: str
    doc: str
    required: bool
    own_tags: frozenset[str]
    tags: frozenset[str]
    """Own tags plus those of every enclosing field: what sealing applies."""
    symbols: tuple[str, ...] = ()


def field_rows(schema: dict[str, Any]) -> list[FieldRow]:
    rows: list[FieldRow] = []
    _Flattener(rows).record(schema, "", frozenset())
    return rows


class _Flattener:
    def __init__(self, rows: list[FieldRow]) -> None:
        self.rows = rows
        self.named: dict[str, dict[str, Any]] = {}

    def remember(self, schema: dict[str, Any]) -> None:
        namespace, name = schema.get("namespace", ""), schema["name"]
        full = name if "." in name or not namespace else f"{namespace}.{name}"
        self.named[full] = schema
        self.named.setdefault(name, schema)

    def resolve(self, schema: Any) -> Any:
        if isinstance(schema, str) and schema in self.named:
            return self.named[schema]
        if isinstance(schema, dict) and schema.get("type") in _NAMED:
            self.remember(schema)
        return schema

    def record(self, schema: dict[str, Any], prefix: str, inherited: frozenset[str]) -> None:
        self.remember(schema)
        for field in schema.get("fields", ()):
            own = frozenset(field.get("sensitivity", ()))
            tags = inherited | own
            path = f"{prefix}.{field['name']}" if prefix else field["name"]
            kind = field["type"]
            optional = isinstance(kind, list) and "null" in kind
            inner = next(b for b in kind if b != "null") if optional else kind
            inner = self.resolve(inner)
            symbols: tuple[str, ...] = ()
            if isinstance(inner, dict) and inner.get("type") == "enum":
                symbols = tuple(inner.get("symbols", ()))
            required = not optional and "default" not in field
            self.rows.append(
                FieldRow(path, self.describe(inner, optional), field.get("doc", ""), required,
                         own, tags, symbols)
            )
            self.descend(inner, path, tags)

    def descend(self, schema: Any, path: str, tags: frozenset[str]) -> None:
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return
        if schema.get("type") == "record":
            self.record(schema, path, tags)
        elif schema.get("type") == "array":
            self.descend(schema["items"], f"{path}[]", tags)
        elif schema.get("type") == "map":
            self.descend(schema["values"], f"{path}{{}}", tags)

    def describe(self, schema: Any, optional: bool) -> str:
        text = self._name(self.resolve(schema))
        return f"{text}, optional" if optional else text

    def _name(self, schema: Any) -> str:
        if isinstance(schema, str):
            return schema
        if isinstance(schema, list):
            return " | ".join(self._name(self.resolve(b)) for b in schema)
        kind = schema.get("type")
        if kind in _NAMED:
            return f"{kind} {schema['name']}"
        if kind == "array":
            return f"array of {self._name(self.resolve(schema['items']))}"
        if kind == "map":
            return f"map of {self._name(self.resolve(schema['values']))}"
        logical = schema.get("logicalType")
        return f"{kind} ({logical})" if logical else str(kind)
