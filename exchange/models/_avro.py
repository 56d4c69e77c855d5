"""Walking an expanded Avro schema (JSON dict) with named-type resolution.

An expanded schema inlines each named type at its first use and refers to it by name afterwards
(what ``fastavro.parse_schema`` and the schema loader produce); a fully inlined schema works too.
"""

from __future__ import annotations

from typing import Any

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = frozenset({"record", "error", "enum", "fixed"})


def fullname(schema: dict[str, Any], namespace: str) -> str:
    """Full name of a named type, given the enclosing namespace."""
    name = str(schema["name"])
    if "." in name:
        return name
    ns = schema.get("namespace", namespace)
    return f"{ns}.{name}" if ns else name


class Names:
    """Named types seen so far while walking one schema."""

    def __init__(self, schema: Any = None) -> None:
        self.types: dict[str, dict[str, Any]] = {}
        if isinstance(schema, dict):
            # fastavro's parse_schema output carries every named type it knows.
            self.types.update(schema.get("__named_schemas", {}))

    def resolve(self, schema: Any, namespace: str) -> tuple[Any, str]:
        """Return ``(schema, namespace)`` with a name reference replaced by its definition and
        named definitions registered. Unknown names raise ``KeyError``."""
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                return schema, namespace
            for candidate in (schema, f"{namespace}.{schema}" if namespace else schema):
                if candidate in self.types:
                    found = self.types[candidate]
                    return found, candidate.rpartition(".")[0]
            raise KeyError(schema)
        if isinstance(schema, dict) and schema.get("type") in NAMED:
            name = fullname(schema, namespace)
            self.types.setdefault(name, schema)
            return schema, name.rpartition(".")[0]
        return schema, namespace


def describe(schema: Any) -> str:  # noqa: PLR0911  -- one return per Avro type form
    """Short human-readable form of an Avro type for messages."""
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return "[" + ", ".join(describe(s) for s in schema) + "]"
    if isinstance(schema, dict):
        if "logicalType" in schema:
            return f"{schema['type']}/{schema['logicalType']}"
        if schema.get("type") in NAMED:
            return f"{schema['type']} {fullname(schema, '')}"
        if schema.get("type") == "array":
            return f"array<{describe(schema['items'])}>"
        if schema.get("type") == "map":
            return f"map<{describe(schema['values'])}>"
        return describe(schema.get("type"))
    return repr(schema)
