"""One catalogue of malformed input bytes, fed to every entry point that reads outside input
(CLI publish, HTTP gateway, file drop, outbox): each must answer with the rule named here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Malformed:
    name: str
    content: bytes
    rule: str
    """The rule every entry point names (exchange.inputs, or json_object)."""


CATALOGUE = (
    Malformed("gbk-text", '{"situation": "西安北站"}'.encode("gbk"), "encoding"),
    Malformed("nested-deep", b'{"a": ' * 50_000 + b"1" + b"}" * 50_000, "json_depth"),
    Malformed("not-json", b"sightingId=1", "json_syntax"),
    Malformed("truncated", b'{"sightingId": ', "json_syntax"),
    Malformed("not-an-object", b"[1, 2]", "json_object"),
)
IDS = [m.name for m in CATALOGUE]
