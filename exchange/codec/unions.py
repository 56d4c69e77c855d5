"""Name the branch of each ``["null", record]`` union before fastavro writes it.

Given a plain dict, fastavro picks a union's branch by validating the datum against every
candidate, which for a record means walking the whole sub-record: about a quarter of the write
time of an event with optional nested records. Our models already know the branch, so the codec
passes fastavro's tuple notation, ``(record full name, value)``, and fastavro writes it
directly. The bytes are identical (tests/codec/test_unions.py proves it for every event).

:func:`union_hinter` compiles, once per schema, a function that rewrites a ``model_dump()`` dict
in place; it returns None when a schema has no such union.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Transform = Callable[[Any], Any]

_PRIMITIVES = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)


def union_hinter(schema: dict[str, Any]) -> Transform | None:
    """A transform for values of the expanded record ``schema``, or None if none is needed."""
    return _Compiler().build(schema, schema.get("namespace", ""))


class _Compiler:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.done: dict[str, Transform | None] = {}

    def build(self, schema: Any, namespace: str) -> Transform | None:
        if isinstance(schema, list):
            return self._union(schema, namespace)
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                return None
            return self._named(_full(schema, namespace), namespace)
        return self._complex(schema, namespace)

    def _complex(self, schema: dict[str, Any], namespace: str) -> Transform | None:
        kind = schema.get("type")
        if kind in ("record", "enum", "fixed"):
            name = _full(schema["name"], schema.get("namespace", namespace))
            self.records[name] = schema if kind == "record" else {}
            return self._named(name, namespace)
        if isinstance(kind, dict | list | str) and kind not in ("array", "map"):
            return self.build(kind, namespace)  # {"type": "long", "logicalType": ...} etc.
        inner = self.build(schema["items" if kind == "array" else "values"], namespace)
        if inner is None:
            return None
        return _each(inner) if kind == "array" else _each_value(inner)

    def _named(self, name: str, namespace: str) -> Transform | None:
        if name in self.done:
            return self.done[name]
        schema = self.records.get(name)
        if not schema:  # an enum or fixed: nothing to do
            return None
        self.done[name] = None  # recursion guard: a self-referencing type is left to fastavro
        own_namespace = schema.get("namespace", name.rpartition(".")[0] or namespace)
        fields = [
            (field["name"], transform)
            for field in schema["fields"]
            if (transform := self.build(field["type"], own_namespace)) is not None
        ]
        result = _record(fields) if fields else None
        self.done[name] = result
        return result

    def _union(self, branches: list[Any], namespace: str) -> Transform | None:
        others = [b for b in branches if b != "null"]
        if len(others) != 1:
            return None  # fastavro chooses among several branches itself
        (branch,) = others
        inner = self.build(branch, namespace)
        if isinstance(branch, dict) and branch.get("type") == "record":
            name = _full(branch["name"], branch.get("namespace", namespace))
        elif isinstance(branch, str) and branch in self.records and self.records[branch]:
            name = branch
        else:
            return None if inner is None else _optional(inner)
        return _hint(name, inner)


def _full(name: str, namespace: str) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def _record(fields: list[tuple[str, Transform]]) -> Transform:
    def transform(value: dict[str, Any]) -> dict[str, Any]:
        for name, field_transform in fields:
            value[name] = field_transform(value[name])
        return value

    return transform


def _hint(name: str, inner: Transform | None) -> Transform:
    def transform(value: Any) -> Any:
        if value is None:
            return None
        return (name, value if inner is None else inner(value))

    return transform


def _optional(inner: Transform) -> Transform:
    return lambda value: None if value is None else inner(value)


def _each(inner: Transform) -> Transform:
    return lambda values: [inner(v) for v in values]


def _each_value(inner: Transform) -> Transform:
    return lambda values: {k: inner(v) for k, v in values.items()}
