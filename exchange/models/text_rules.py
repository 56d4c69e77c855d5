"""What any text in an event may hold: no control, bidirectional or zero-width characters, and
a bounded length; and how large a whole event may be.

A name or a note is shown to people (terminals, the referral board, alerts, agency systems):
a right-to-left override or a zero-width space makes it read otherwise than it is stored, a
terminal escape sequence can rewrite the screen of whoever runs ``exchange tail``. They are
refused, not silently removed: the sender learns which field to fix. Line breaks and tabs stay
allowed in free text.

Limits (:mod:`exchange.models.limits` collects them for the documents):

- any text field: at most :data:`MAX_TEXT` characters (identifiers: 64, by their own type);
- a whole event, as JSON: at most :data:`MAX_EVENT_BYTES` bytes (checked on JSON input).
"""

from __future__ import annotations

import re
import unicodedata

from exchange.models.rule_errors import rule_error

__all__ = [
    "FORBIDDEN_CHARACTERS", "MAX_EVENT_BYTES", "MAX_TEXT", "check_text", "escape_for_terminal",
    "forbidden_character",
]

MAX_TEXT = 4000
MAX_EVENT_BYTES = 64 * 1024

#: C0 controls but tab and line breaks, DEL, C1 controls, zero-width and bidirectional
#: formatting characters, and the byte-order mark.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    "\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
#: The refused characters as a regular-expression class, written with escapes (for documents).
FORBIDDEN_CHARACTERS = _FORBIDDEN.pattern.encode("unicode_escape").decode("ascii")


def forbidden_character(text: str) -> str | None:
    """The first character of ``text`` that is refused, or None."""
    found = _FORBIDDEN.search(text)
    return found.group() if found else None


def check_text(text: str) -> str:
    """``text`` if it holds no refused character and is not too long (a pydantic error else)."""
    if len(text) > MAX_TEXT:
        raise rule_error("text_too_long", f"at most {MAX_TEXT} characters, got {len(text)}")
    bad = forbidden_character(text)
    if bad is not None:
        name = unicodedata.name(bad, "a control character")
        raise rule_error(
            "text_forbidden_character",
            f"contains U+{ord(bad):04X} ({name}) at position {text.index(bad)}: control, "
            "bidirectional and zero-width characters are not allowed",
        )
    return text


def escape_for_terminal(json_text: str) -> str:
    """JSON text with every refused character written as a ``\\uXXXX`` escape (still the
    same JSON): what a record carries outside the models' reach (headers, keys, a record from
    before these rules) never reaches a terminal raw."""
    return _FORBIDDEN.sub(lambda found: f"\\u{ord(found.group()):04x}", json_text)
