"""Untrusted bytes read as text and JSON, the same way at every entry point.

The CLI, the HTTP gateway and the file-drop connector read what an outside system sends. Here
that input becomes text only by a strict decode in a named encoding (never ``errors="replace"``:
a GBK spreadsheet read as UTF-8 would be published full of U+FFFD), and JSON only within a
nesting limit (a line nested ten thousand deep must not end in ``RecursionError``). Every
failure is an :class:`InputError`, a :class:`~exchange.models.exceptions.ValidationFailed` whose
field error names the rule (``encoding``, ``json_syntax``, ``json_depth``), the line and column,
and what to do.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO, Literal, get_args

from exchange.models.exceptions import FieldError, ValidationFailed
from exchange.models.limits import Limit

Encoding = Literal["utf-8", "gbk", "gb18030"]
"""Encodings an agency may declare for its files: UTF-8, or the Chinese Windows code pages."""
MAX_JSON_DEPTH = 32
"""Deepest nesting of objects and lists accepted (events nest about six levels)."""

MAX_DOCUMENT_BYTES = 1_000_000
"""Largest JSON document read whole (a CLI file or stdin; the gateway's default body limit):
an event is at most 64 KiB as compact JSON, this leaves room for indentation, and a stream
without end (``/dev/zero``, a pipe that never closes) cannot exhaust memory."""

INPUT_LIMITS: tuple[Limit, ...] = (
    Limit("document-bytes", "one JSON document (a CLI file or stdin)", MAX_DOCUMENT_BYTES,
          f"at most {MAX_DOCUMENT_BYTES} bytes", "input_too_large"),
    Limit("json-depth", "JSON input", MAX_JSON_DEPTH,
          f"objects and lists nested at most {MAX_JSON_DEPTH} levels deep", "json_depth"),
    Limit("encoding", "text input (bodies, files)", "utf-8",
          "UTF-8; a file-drop connector may declare "
          + " or ".join(e for e in get_args(Encoding) if e != "utf-8")
          + "; bytes that do not decode are refused with their line and column", "encoding"),
)
"""The limits of reading outside bytes, as the documents state them (see
:mod:`exchange.models.limits`)."""


class InputError(ValidationFailed):
    """Input bytes that are not text in the expected encoding, or not acceptable JSON.

    ``line`` and ``column`` (1-based, when known) say where; ``errors`` holds one
    :class:`FieldError` whose rule names what is wrong.
    """

    def __init__(
        self, rule: str, message: str, *, field: str = "", line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.line = line
        self.column = column
        self.row: int | None = None
        """The data row, when the reader of a table knows it."""
        super().__init__([FieldError(field, rule, message)])

    def __str__(self) -> str:
        error = self.errors[0]
        where = f"{error.field}: " if error.field else ""
        return f"{where}{error.message} [{error.rule}]"


def read_limited(stream: BinaryIO, what: str, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """At most ``limit`` bytes of ``stream``, or :class:`InputError` (``input_too_large``)
    without reading further."""
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise InputError(
            "input_too_large", f"{what}: more than {limit} bytes; one event is far smaller, "
            "give one JSON object"
        )
    return content


def decode_text(content: bytes, encoding: Encoding = "utf-8") -> str:
    """``content`` as text (a UTF-8 byte-order mark dropped), or :class:`InputError` naming the
    first byte that is not ``encoding``, with its line and column."""
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    try:
        return content.decode(codec)
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        line_start = content.rfind(b"\n", 0, error.start) + 1
        before = content[line_start : error.start].decode(codec, errors="ignore")
        column = len(before) + 1
        bad = content[error.start : error.start + 2].hex(" ")
        hint = (
            'save the file as UTF-8, or declare its encoding (e.g. encoding = "gb18030")'
            if encoding == "utf-8"
            else f"the bytes are not {encoding}; save the file as UTF-8"
        )
        raise InputError(
            "encoding",
            f"line {line}, column {column}: bytes {bad} are not {encoding}; {hint}",
            line=line,
            column=column,
        ) from None


def load_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON, refusing bytes that are not UTF-8 and nesting deeper than ``max_depth``."""
    if isinstance(text, bytes):
        text = decode_text(text)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            "json_syntax", f"not JSON at line {error.lineno}, column {error.colno}: {error.msg}",
            line=error.lineno, column=error.colno,
        ) from None
    except RecursionError:
        raise _too_deep(max_depth) from None
    if depth_exceeds(value, max_depth):
        raise _too_deep(max_depth)
    return value


def _too_deep(max_depth: int) -> InputError:
    return InputError(
        "json_depth", f"objects and lists nest deeper than {max_depth} levels; flatten the input"
    )


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether ``value`` nests dicts and lists more than ``max_depth`` deep (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > max_depth:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False
