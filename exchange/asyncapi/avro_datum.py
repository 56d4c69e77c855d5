"""An event's JSON (as ``exchange example`` prints it) as the Avro datum its schema describes:
times as epoch milliseconds, dates as days since 1970-01-01, absent optional fields as null,
defaults filled in. The AsyncAPI examples use this form, so they can be checked against the
Avro payload schema itself (the validator does, with the AsyncAPI project's avsc)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from exchange.asyncapi.exceptions import AsyncApiError

_EPOCH = date(1970, 1, 1)
_NAMED = frozenset({"record", "enum", "fixed"})


def avro_datum(schema: dict[str, Any], value: Any) -> Any:
    """``value`` converted along ``schema``, a self-contained (expanded) event schema."""
    return _Walker().node(schema, value, "")


class _Walker:
    def __init__(self) -> None:
        self.named: dict[str, dict[str, Any]] = {}

    def node(self, schema: Any, value: Any, path: str) -> Any:
        if isinstance(schema, str):
            return self.node(self.named[schema], value, path) if schema in self.named else value
        if isinstance(schema, list):
            return self._union(schema, value, path)
        kind = schema.get("type")
        if kind in _NAMED:
            namespace = schema.get("namespace", "")
            name = schema["name"]
            self.named[f"{namespace}.{name}" if namespace and "." not in name else name] = schema
        if kind == "record":
            return self._record(schema, value, path)
        if kind in ("array", "map"):
            return self._collection(schema, value, path)
        if isinstance(kind, (dict, list)):
            return self.node(kind, value, path)
        return _logical(schema.get("logicalType"), value, path)

    def _collection(self, schema: dict[str, Any], value: Any, path: str) -> Any:
        if schema["type"] == "array":
            return [self.node(schema["items"], item, f"{path}.{i}") for i, item in enumerate(value)]
        return {k: self.node(schema["values"], v, f"{path}.{k}") for k, v in value.items()}

    def _union(self, branches: list[Any], value: Any, path: str) -> Any:
        if value is None:
            if "null" not in branches:
                raise AsyncApiError(f"{path}: null for a union without null")
            return None
        others = [b for b in branches if b != "null"]
        if len(others) != 1:
            raise AsyncApiError(f"{path}: only [null, X] unions are supported, got {branches}")
        return self.node(others[0], value, path)

    def _record(self, schema: dict[str, Any], value: Any, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in schema["fields"]:
            name = field["name"]
            where = f"{path}.{name}" if path else name
            if name in value:
                out[name] = self.node(field["type"], value[name], where)
            elif "default" in field:
                out[name] = field["default"]
            else:
                raise AsyncApiError(f"{where}: required by the schema, absent in the example")
        return out


def _logical(logical: Any, value: Any, path: str) -> Any:
    if logical == "timestamp-millis" and isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise AsyncApiError(f"{path}: {value!r} has no UTC offset")
        return int(moment.astimezone(UTC).timestamp() * 1000)
    if logical == "date" and isinstance(value, str):
        return (date.fromisoformat(value) - _EPOCH).days
    return value
