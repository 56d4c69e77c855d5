"""The bytes of the ``exchange.sealed`` header, versions 1 and 2, and of a sealed group's values.

:mod:`.envelope` does the cryptography; this module only writes and reads the layout. Version 2
is written; both are read, so events sealed before version 2 still open. The first byte tells
them apart: ``{`` (version 1 is JSON), ``0x02`` (version 2).

**Version 2** (binary: no base64, no JSON; integers unsigned big-endian)::

    0x02
    u8 length + sender's enc key id (ASCII)              e.g. police.enc.1
    u8 count, then per recipient:
        u8 length + key id (ASCII)                       the recipient's enc key
        u16 length + nonce (12) + AES-GCM of its bundle  (group index, data key) pairs
    u8 count, then per group:
        u16 length + tags, UTF-8, joined by ","          sorted
        u16 length + paths, UTF-8, joined by ","         in the order of the values
        u32 length + AES-GCM ciphertext of the values    nonce 0: the data key is fresh

Nothing may follow the last group. Tags and paths never contain ``,`` (Avro names; the sealer
refuses a tag that does). The associated data of a group is, in both versions, ``event key
0x00 tags 0x00 paths`` with the joined forms above, so a ciphertext stays bound to its event,
tags and paths. A group's plaintext (version 2) is, per value, in the paths' order::

    u8 kind + u32 length + payload
    "s": a string, UTF-8 (a date: ISO 8601 text)      "b": a boolean, "0" or "1"
    "i": an integer, decimal     "f": a finite float, repr (Python's, as JSON writes it)
    "j": any other value, compact UTF-8 JSON (bytes as base64 text, as version 1)

**Version 1** (UTF-8 JSON, base64 for bytes; read only)::

    {"v": 1, "from": "police.enc.1",
     "groups": [{"tags": [...], "paths": [...], "data": "<base64 AES-GCM of the JSON list
                 of the values>"}],
     "keys": {"transport.enc.3": "<base64 nonce + AES-GCM bundle>"}}

Why version 2: an emergency alert's sealed CAP document (1.3 kB of Chinese text) was JSON-
escaped, encrypted, base64-encoded and put into a 2.4 kB JSON header, then the reader parsed
the JSON, decoded the base64 and the JSON again; that was most of the cost of protecting it
(BENCHMARKS.md, issue #4). Version 2 encrypts the UTF-8 bytes themselves and carries the
ciphertext as it is: the header is a quarter smaller and each step is a slice or one decode.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

VERSION_1 = 1
VERSION_2 = 2
_V2 = b"\x02"
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_VALUE = struct.Struct(">BI")
_STR, _BOOL, _INT, _FLOAT, _JSON = b"sbifj"
_TRUE = b"1"[0]
_BOOLS = b"01"


class FormatError(ValueError):
    """The header or a group's plaintext is not well formed (the caller says bad-envelope)."""


@dataclass(frozen=True, slots=True)
class SealedGroup:
    """One group as read from a header; ``data`` is the ciphertext (version 1: base64 text,
    decoded only when the group is opened)."""

    tags: tuple[str, ...]
    paths: tuple[str, ...]
    aad_tail: bytes  # 0x00 tags 0x00 paths: the associated data after the event key
    data: bytes | memoryview | str


@dataclass(frozen=True, slots=True)
class SealedHeader:
    version: int
    sender: str
    keys: dict[str, bytes | str]  # recipient key id -> nonce + wrapped bundle (v1: base64)
    groups: tuple[SealedGroup, ...]

    def ciphertext(self, group: SealedGroup) -> bytes | memoryview:
        """The group's ciphertext as bytes (base64 decoded for version 1)."""
        return _unbase64(group.data) if isinstance(group.data, str) else group.data

    def wrapped(self, key_id: str) -> bytes:
        found = self.keys[key_id]
        return _unbase64(found) if isinstance(found, str) else found


def aad_tail(tags: str, paths: str) -> bytes:
    """The associated data of a group after the event key (see the module docs)."""
    return b"\x00" + tags.encode() + b"\x00" + paths.encode()


def _unbase64(text: str) -> bytes:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError) as error:
        raise FormatError(f"not base64: {error}") from None


def _short(text: str, size: int) -> bytes:
    raw = text.encode()
    if len(raw) >= 1 << (8 * size):
        raise FormatError(f"{text[:40]!r}... is too long for the header")
    return len(raw).to_bytes(size, "big") + raw


def write_v2(
    sender: str,
    keys: Iterable[tuple[str, bytes]],
    groups: Iterable[tuple[bytes, bytes]],
) -> bytes:
    """A version 2 header; ``groups`` are (tags and paths as :func:`group_prefix` writes
    them, ciphertext)."""
    wrapped = [(_short(key_id, 1), _short_bytes(sealed)) for key_id, sealed in keys]
    sealed_groups = list(groups)
    if len(wrapped) > 255 or len(sealed_groups) > 255:
        raise FormatError("more than 255 recipients or groups")
    out = [_V2, _short(sender, 1), bytes((len(wrapped),))]
    for key_id, sealed in wrapped:
        out.append(key_id)
        out.append(sealed)
    out.append(bytes((len(sealed_groups),)))
    for prefix, ciphertext in sealed_groups:
        out.append(prefix)
        out.append(_U32.pack(len(ciphertext)))
        out.append(ciphertext)
    return b"".join(out)


def _short_bytes(raw: bytes) -> bytes:
    return _U16.pack(len(raw)) + raw


def group_prefix(tags: str, paths: str) -> bytes:
    """The tags and paths of a group as written in a version 2 header."""
    return _short(tags, 2) + _short(paths, 2)


def read(header: bytes) -> SealedHeader:
    """Either version; raises :class:`FormatError` when the header is not well formed."""
    if header[:1] == _V2:
        return _read_v2(memoryview(header))
    if header[:1] == b"{":
        return _read_v1(header)
    raise FormatError(f"unknown version (first byte {header[:1]!r})")


def _read_v2(view: memoryview) -> SealedHeader:
    try:
        sender, at = _text(view, 1, 1)
        keys: dict[str, bytes | str] = {}
        count, at = view[at], at + 1
        for _ in range(count):
            key_id, at = _text(view, at, 1)
            start = at + 2
            at = start + _U16.unpack_from(view, at)[0]
            _within(view, at)
            keys[key_id] = bytes(view[start:at])
        groups: list[SealedGroup] = []
        count, at = view[at], at + 1
        for _ in range(count):
            tags, at = _text(view, at, 2)
            paths, at = _text(view, at, 2)
            start = at + 4
            at = start + _U32.unpack_from(view, at)[0]
            _within(view, at)
            groups.append(
                SealedGroup(
                    tuple(tags.split(",")),
                    tuple(paths.split(",")),
                    aad_tail(tags, paths),
                    view[start:at],
                )
            )
        if at != len(view):
            raise FormatError(f"{len(view) - at} bytes after the last group")
    except (IndexError, struct.error, UnicodeDecodeError) as error:
        raise FormatError(f"truncated or not UTF-8 ({type(error).__name__})") from None
    return SealedHeader(VERSION_2, sender, keys, tuple(groups))


def _within(view: memoryview, end: int) -> None:
    if end > len(view):
        raise FormatError("a length runs past the end of the header")


def _text(view: memoryview, at: int, size: int) -> tuple[str, int]:
    length = int.from_bytes(view[at : at + size], "big")
    start = at + size
    end = start + length
    if end > len(view):
        raise FormatError("a length runs past the end of the header")
    return str(view[start:end], "utf-8"), end


def _read_v1(header: bytes) -> SealedHeader:
    try:
        envelope = json.loads(header)
        version, sender, keys = envelope.get("v"), envelope["from"], envelope["keys"]
        if version != VERSION_1:
            raise FormatError(f"version {version!r}")
        if not isinstance(sender, str) or not isinstance(keys, dict):
            raise FormatError("'from' is not a key id or 'keys' is not an object")
        groups = []
        for group in envelope["groups"]:
            tags, paths, data = group["tags"], group["paths"], group["data"]
            if not isinstance(data, str):
                raise FormatError("a group's data is not base64 text")
            groups.append(
                SealedGroup(
                    tuple(tags), tuple(paths), aad_tail(",".join(tags), ",".join(paths)), data
                )
            )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        if isinstance(error, FormatError):
            raise
        raise FormatError(f"{type(error).__name__}: {error}") from None
    return SealedHeader(VERSION_1, sender, keys, tuple(groups))


def pack_values(values: Iterable[Any]) -> bytes:
    """A group's plaintext, version 2 (see the module docs)."""
    out = bytearray()
    pack = _VALUE.pack
    for value in values:
        kind = type(value)
        if kind is str:
            raw = value.encode("utf-8", "surrogatepass")
            code = _STR
        elif kind is bool:
            raw = b"1" if value else b"0"
            code = _BOOL
        elif kind is int:
            raw = str(value).encode()
            code = _INT
        elif kind is float and math.isfinite(value):
            raw = repr(value).encode()
            code = _FLOAT
        elif isinstance(value, str):  # a str enum: its value, as JSON would write it
            raw = str.encode(value, "utf-8", "surrogatepass")
            code = _STR
        elif isinstance(value, (date, datetime)):  # as version 1: ISO 8601 text
            raw = value.isoformat().encode()
            code = _STR
        else:
            raw = _ENCODER.encode(value).encode("utf-8", "surrogatepass")
            code = _JSON
        out += pack(code, len(raw))
        out += raw
    return bytes(out)


def unpack_values(plain: bytes) -> list[Any]:
    """The values of a group's plaintext, version 2; :class:`FormatError` if malformed."""
    values: list[Any] = []
    append, unpack = values.append, _VALUE.unpack_from
    at, end = 0, len(plain)
    try:
        while at < end:
            code, length = unpack(plain, at)
            start = at + 5
            at = start + length
            if at > end:
                raise FormatError("a value runs past the end of its group")
            if code == _STR:
                append(plain[start:at].decode("utf-8", "surrogatepass"))
            elif code == _BOOL and length == 1 and plain[start] in _BOOLS:
                append(plain[start] == _TRUE)
            elif code == _INT:
                append(int(plain[start:at]))
            elif code == _FLOAT:
                append(float(plain[start:at]))
            elif code == _JSON:
                append(json.loads(plain[start:at]))
            else:
                raise FormatError(f"unknown value kind {code} or a bad boolean")
    except (struct.error, UnicodeDecodeError, ValueError) as error:
        if isinstance(error, FormatError):
            raise
        raise FormatError(f"{type(error).__name__}: {error}") from None
    return values


def pack_values_v1(values: Iterable[Any]) -> bytes:
    """A group's plaintext, version 1 (the JSON list; tests write version 1 with it)."""
    return json.dumps(list(values), default=_json_default, ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot seal a {type(value).__name__}")


_ENCODER = json.JSONEncoder(default=_json_default, ensure_ascii=False, separators=(",", ":"))
