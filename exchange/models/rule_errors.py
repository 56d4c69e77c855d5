"""The one way a model's validator reports a broken rule: :func:`rule_error`.

pydantic's ``PydanticCustomError`` treats its message as a template: ``{name}`` is replaced by
a context value, but format specs (``{unit!r}``) are not understood and ``{{`` is not unescaped,
so a template printed its own placeholders. Here the message is written in Python (an f-string)
and handed over whole as the only context value: it is printed as written, braces and all.
"""

from __future__ import annotations

from pydantic_core import PydanticCustomError

__all__ = ["rule_error"]


def rule_error(rule: str, message: str) -> PydanticCustomError:
    """A field error of type ``rule`` whose text is exactly ``message``."""
    return PydanticCustomError(rule, "{message}", {"message": message})
