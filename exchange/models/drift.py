"""Does a pydantic model still mirror its Avro schema?

:func:`check_model_matches_schema` compares field names, nullability, defaults and types,
recursively; ``exchange schemas check`` and the test suite fail on any difference.
"""

from __future__ import annotations

import enum
import types
import typing
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from exchange.models._avro import Names, describe, fullname

__all__ = ["check_model_matches_schema"]

_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "int": (int,),
    "long": (int,),
    "float": (float,),
    "double": (float,),
    "boolean": (bool,),
    "bytes": (bytes,),
}
_LOGICAL: dict[str, type] = {
    "timestamp-millis": datetime,
    "timestamp-micros": datetime,
    "date": date,
}


def check_model_matches_schema(model: type[BaseModel], schema: dict[str, Any]) -> list[str]:
    """Differences between ``model`` and the expanded Avro record ``schema``; empty if they match.

    Each message starts with the dotted field path (``[]`` marks array items).
    """
    diffs: list[str] = []
    _Comparer(diffs, schema).record(model, schema, "", "")
    return diffs


def _strip_annotated(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _split_optional(annotation: Any) -> tuple[bool, list[Any]]:
    annotation = _strip_annotated(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        rest = [_strip_annotated(a) for a in args if a is not type(None)]
        return len(rest) < len(args), rest
    return False, [annotation]


def _name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)


def _normalise_default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_normalise_default(v) for v in value]
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


class _Comparer:
    def __init__(self, diffs: list[str], schema: dict[str, Any]) -> None:
        self.diffs = diffs
        self.names = Names(schema)
        self.seen: set[tuple[type[BaseModel], str]] = set()

    def note(self, path: str, message: str) -> None:
        self.diffs.append(f"{path or '<root>'}: {message}")

    def record(self, model: type[BaseModel], schema: Any, namespace: str, path: str) -> None:
        schema, namespace = self.names.resolve(schema, namespace)
        if not isinstance(schema, dict) or schema.get("type") not in ("record", "error"):
            self.note(path, f"model {model.__name__} but schema {describe(schema)}")
            return
        key = (model, fullname(schema, namespace))
        if key in self.seen:
            return
        self.seen.add(key)
        avro_fields = {f["name"]: f for f in schema.get("fields", [])}
        model_fields = model.model_fields
        prefix = f"{path}." if path else ""
        for name in avro_fields.keys() - model_fields.keys():
            self.note(prefix + name, f"in schema but missing from model {model.__name__}")
        for name in model_fields.keys() - avro_fields.keys():
            self.note(prefix + name, f"in model {model.__name__} but missing from schema")
        for name, avro_field in avro_fields.items():
            if name in model_fields:
                self.field(model_fields[name], avro_field, namespace, prefix + name)

    def field(self, info: FieldInfo, avro_field: dict[str, Any], namespace: str, path: str) -> None:
        self.value(info.annotation, avro_field["type"], namespace, path)
        has_avro_default = "default" in avro_field
        if has_avro_default and info.is_required():
            self.note(path, f"schema default {avro_field['default']!r} but model field required")
        elif not has_avro_default and not info.is_required():
            self.note(path, "model field has a default but the schema field has none")
        elif has_avro_default:
            model_default = _normalise_default(info.get_default(call_default_factory=True))
            if model_default != avro_field["default"]:
                self.note(
                    path,
                    f"default differs: schema {avro_field['default']!r}, model {model_default!r}",
                )

    def value(self, annotation: Any, avro: Any, namespace: str, path: str) -> None:
        model_nullable, model_types = _split_optional(annotation)
        if isinstance(avro, list):
            avro_nullable = "null" in avro
            avro_types = [t for t in avro if t != "null"]
        else:
            avro_nullable, avro_types = avro == "null", [avro]
        if model_nullable != avro_nullable:
            which = "optional in model only" if model_nullable else "optional in schema only"
            self.note(path, f"nullability differs: {which} (schema {describe(avro)})")
        if len(model_types) != 1 or len(avro_types) != 1:
            if len(model_types) != len(avro_types):
                self.note(path, f"union differs: schema {describe(avro)}, model {annotation!r}")
            return
        self.single(model_types[0], avro_types[0], namespace, path)

    def single(self, annotation: Any, avro: Any, namespace: str, path: str) -> None:
        try:
            avro, namespace = self.names.resolve(avro, namespace)
        except KeyError:
            self.note(path, f"schema refers to unknown type {avro!r}")
            return
        annotation = _strip_annotated(annotation)
        avro_type = avro if isinstance(avro, str) else avro.get("type")
        if isinstance(avro, dict) and avro.get("logicalType") in _LOGICAL:
            ok = _is_logical(annotation, _LOGICAL[avro["logicalType"]])
        elif isinstance(avro_type, str) and avro_type in _SCALARS:
            ok = _is_scalar(annotation, avro_type)
        elif avro_type == "enum":
            ok = self.enum(annotation, avro, path)
        elif avro_type in ("record", "error"):
            ok = isinstance(annotation, type) and issubclass(annotation, BaseModel)
            if ok:
                self.record(annotation, avro, namespace, path)
        elif avro_type == "array":
            ok = self.array(annotation, avro, namespace, path)
        elif avro_type == "map":
            ok = self.map(annotation, avro, namespace, path)
        elif avro_type == "fixed":
            ok = annotation is bytes
        else:
            self.note(path, f"unsupported schema type {describe(avro)}")
            return
        if not ok:
            self.note(path, f"type differs: schema {describe(avro)}, model {_name(annotation)}")

    def enum(self, annotation: Any, avro: dict[str, Any], path: str) -> bool:
        if not (isinstance(annotation, type) and issubclass(annotation, enum.StrEnum)):
            return False
        symbols = set(avro.get("symbols", []))
        values = {m.value for m in annotation}
        if symbols != values:
            self.note(
                path,
                f"enum {annotation.__name__} symbols differ: missing from model "
                f"{sorted(symbols - values)}, not in schema {sorted(values - symbols)}",
            )
        return True

    def array(self, annotation: Any, avro: dict[str, Any], namespace: str, path: str) -> bool:
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        is_list = origin is list and len(args) == 1
        is_tuple = origin is tuple and len(args) == 2 and args[1] is Ellipsis
        if not (is_list or is_tuple):
            return False
        self.value(args[0], avro["items"], namespace, f"{path}[]")
        return True

    def map(self, annotation: Any, avro: dict[str, Any], namespace: str, path: str) -> bool:
        args = typing.get_args(annotation)
        if typing.get_origin(annotation) is not dict or len(args) != 2 or args[0] is not str:
            return False
        self.value(args[1], avro["values"], namespace, f"{path}{{}}")
        return True


def _is_logical(annotation: Any, expected: type) -> bool:
    if not (isinstance(annotation, type) and issubclass(annotation, expected)):
        return False
    # datetime is a subclass of date, but an Avro date is not an instant.
    return not (expected is date and issubclass(annotation, datetime))


def _is_scalar(annotation: Any, avro_type: str) -> bool:
    if not isinstance(annotation, type):
        return False
    if annotation is bool and avro_type != "boolean":
        return False  # bool is a subclass of int in Python, not in Avro
    return issubclass(annotation, _SCALARS[avro_type])
