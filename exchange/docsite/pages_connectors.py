"""The connectors' configuration reference, read from their pydantic config models."""

from __future__ import annotations

import inspect
import re
import sys
from typing import Any, get_args

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from exchange.docsite.data import Connectors
from exchange.docsite.html import Markup, code, esc, page, section, table

_CLASS = re.compile(r"<class '([\w.]+)'>")
_DOTTED = re.compile(r"\b(?:[a-z_][\w]*\.)+([A-Za-z_]\w*)")


def type_name(annotation: Any) -> str:
    """``tuple[Caller, ...] | None`` rather than the repr with module paths."""
    text = _CLASS.sub(r"\1", repr(annotation) if not isinstance(annotation, type)
                      else f"<class '{annotation.__qualname__}'>")
    return _DOTTED.sub(r"\1", text)


def _nested(annotation: Any) -> list[type[BaseModel]]:
    found = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.append(annotation)
    for arg in get_args(annotation):
        found.extend(_nested(arg))
    return found


def _first_paragraph(text: str | None) -> str:
    return inspect.cleandoc(text or "").split("\n\n")[0].replace("\n", " ")


def toml_value(value: Any) -> str:
    """A default as it would be written in the TOML config file."""
    if value is None:
        return "(not set)"
    if isinstance(value, BaseModel):
        return "(its defaults)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return f'"{value}"'


def _fields(model: type[BaseModel]) -> Markup:
    rows = []
    for name, field in model.model_fields.items():
        default = "" if field.is_required() or field.default is PydanticUndefined else (
            toml_value(field.default)
        )
        rows.append((code(name), type_name(field.annotation),
                     "yes" if field.is_required() else "", default, field.description or ""))
    return table(["key", "type", "required", "default", "meaning"], rows)


def connectors(given: Connectors) -> str:
    intro = Markup(
        "<p>A connector is configured by one TOML (or JSON) file and run with "
        "<code>exchange connect FILE</code>. Every file names its <code>kind</code>, a "
        "<code>name</code> unique in the deployment and the <code>agency</code> it acts for; "
        "unknown keys are errors naming the key. Tables below are read from the config models, "
        "so they are what the code accepts.</p>"
    )
    body: str = intro
    nested: dict[str, type[BaseModel]] = {}
    for kind, (target, cls) in given.kinds.items():
        if isinstance(cls, str):  # the reason it cannot be loaded
            body += section(kind, Markup(f"<p class='muted'>{esc(cls)}</p>"), kind)
            continue
        model = cls.config_model  # type: ignore[attr-defined]
        module = sys.modules[cls.__module__]
        about = _first_paragraph(module.__doc__) or _first_paragraph(model.__doc__)
        for field in model.model_fields.values():
            for sub in _nested(field.annotation):
                nested[sub.__name__] = sub
        body += section(
            f"kind = \"{kind}\"",
            Markup(f"<p>{esc(about)} <span class='muted'>({esc(target)})</span></p>")
            + _fields(model),
            kind,
        )
    for name in sorted(nested):
        sub = nested[name]
        body += section(f"Table {name}", Markup(f"<p>{esc(_first_paragraph(sub.__doc__))}</p>")
                        + _fields(sub), name)
    return page("Connectors: configuration reference", body)
