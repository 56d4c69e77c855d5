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
the JSON, decoded the base64 and the JSON again; that was most of the cost of sealing and
opening it (BENCHMARKS.md, the cost of protection). Version 2 encrypts the UTF-8 bytes
themselves and carries the ciphertext as it is: the header is a quarter smaller and each step is
a slice or one decode.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import struct
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, NamedTuple

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


class SealedGroup(NamedTuple):
    """One group as read from a header; ``data`` is the ciphertext (version 1: base64 text,
    decoded only when the group is opened)."""

    tags: tuple[str, ...]
    paths: tuple[str, ...]
    aad_tail: bytes  # 0x00 tags 0x00 paths: the associated data after the event key
    data: bytes | str


class SealedHeader(NamedTuple):
    version: int
    sender: str
    keys: dict[str, bytes | str]  # recipient key id -> nonce + wrapped bundle (v1: base64)
    groups: tuple[SealedGroup, ...]

    def ciphertext(self, group: SealedGroup) -> bytes:
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


@functools.lru_cache(maxsize=4096)
def _short(text: str, size: int) -> bytes:
    """``text`` as UTF-8 after its length in ``size`` bytes (key ids repeat: cached)."""
    raw = text.encode()
    if len(raw) >= 1 << (8 * size):
        raise FormatError(f"{text[:40]!r}... is too long for the header")
    return len(raw).to_bytes(size, "big") + raw


def write_v2(
    sender: str,
    keys: Iterable[tuple[str, bytes]],
    groups: Iterable[tuple[bytes, bytes]],
) -> bytes:
    """A version 2 header; ``groups`` are (tags and paths as :func:`group_layout` writes
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


@functools.lru_cache(maxsize=4096)
def group_layout(tags: tuple[str, ...], paths: tuple[str, ...]) -> tuple[bytes, bytes]:
    """A group's tags and paths as a version 2 header writes them, and the tail of its
    associated data (few distinct ones per schema: worked out once)."""
    if any("," in name for name in (*tags, *paths)):
        raise FormatError(f"a tag or path with ',' cannot be sealed: {tags} {paths}")
    tag_text, path_text = ",".join(tags), ",".join(paths)
    return _short(tag_text, 2) + _short(path_text, 2), aad_tail(tag_text, path_text)


def read(header: bytes) -> SealedHeader:
    """Either version; raises :class:`FormatError` when the header is not well formed."""
    if header[:1] == _V2:
        return _read_v2(bytes(header))
    if header[:1] == b"{":
        return _read_v1(header)
    raise FormatError(f"unknown version (first byte {header[:1]!r})")


def _read_v2(header: bytes) -> SealedHeader:
    """Lengths are followed as they come; any that runs past the end ends in an error (an
    index or struct error on the way, or the final position check)."""
    u16, u32 = _U16.unpack_from, _U32.unpack_from
    try:
        at = 2 + header[1]
        sender = _name(header[2:at])
        keys: dict[str, bytes | str] = {}
        count, at = header[at], at + 1
        for _ in range(count):
            start = at + 1 + header[at]
            key_id = _name(header[at + 1 : start])
            at = start + 2 + u16(header, start)[0]
            keys[key_id] = header[start + 2 : at]
        groups: list[SealedGroup] = []
        count, at = header[at], at + 1
        for _ in range(count):
            start = at
            at += 2 + u16(header, at)[0]
            at += 2 + u16(header, at)[0]
            tags, paths, tail = _group_names(header[start:at])
            size = u32(header, at)[0]
            at += 4 + size
            groups.append(SealedGroup(tags, paths, tail, header[at - size : at]))
    except (IndexError, struct.error, UnicodeDecodeError) as error:
        raise FormatError(f"truncated or not UTF-8 ({type(error).__name__})") from None
    if at != len(header):
        raise FormatError(f"the header is {len(header)} bytes, its lengths say {at}")
    return SealedHeader(VERSION_2, sender, keys, tuple(groups))


@functools.lru_cache(maxsize=4096)
def _name(raw: bytes) -> str:
    """A key id (few distinct ones: decoded once)."""
    return raw.decode()


@functools.lru_cache(maxsize=4096)
def _group_names(raw: bytes) -> tuple[tuple[str, ...], tuple[str, ...], bytes]:
    """A group's tags, paths and associated data tail from its two length-prefixed texts
    (few distinct ones per schema: worked out once)."""
    size = _U16.unpack_from(raw)[0]
    tags, paths = raw[2 : 2 + size], raw[4 + size :]
    if len(tags) != size or len(paths) != _U16.unpack_from(raw, 2 + size)[0]:
        raise FormatError("a group's tags or paths run past the end of the header")
    return (
        tuple(tags.decode().split(",")),
        tuple(paths.decode().split(",")),
        b"\x00" + tags + b"\x00" + paths,
    )


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


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot seal a {type(value).__name__}")


_ENCODER = json.JSONEncoder(default=_json_default, ensure_ascii=False, separators=(",", ":"))
