"""RFC 3161 time-stamps: ask a time-stamping authority (TSA) over HTTP, check its tokens.

The request is the DER ``TimeStampReq`` of RFC 3161 §2.4.1 (version 1, a SHA-256 message
imprint, a random nonce, ``certReq`` true, so the token carries the TSA's certificate), sent as
``POST`` with ``Content-Type: application/timestamp-query`` (RFC 3161 §3.4); the answer is a
DER ``TimeStampResp`` (``application/timestamp-reply``) whose token is kept as it is.

Tokens are checked with OpenSSL's ``openssl ts -verify`` (Debian's ``openssl`` package), the
same command a third party runs on a disclosure bundle: it checks the CMS signature, the TSA
certificate's chain to the trusted CA, its critical ``timeStamping`` extended key usage, the
message imprint and (given the request) the nonce.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from exchange.evidence.exceptions import TimeStampError

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
_SHA256 = bytes.fromhex("0609608648016503040201") + b"\x05\x00"  # OID 2.16.840.1.101.3.4.2.1, NULL
GRANTED = (0, 1)  # PKIStatus granted, grantedWithMods


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _integer(value: int) -> bytes:
    """A non-negative DER INTEGER: minimal, with a 0 byte where the sign bit would be set."""
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def timestamp_request(digest: bytes, nonce: int) -> bytes:
    """The DER ``TimeStampReq`` for a SHA-256 ``digest``."""
    if len(digest) != 32:
        raise ValueError(f"a SHA-256 digest has 32 bytes, not {len(digest)}")
    imprint = _der(0x30, _der(0x30, _SHA256) + _der(0x04, digest))
    return _der(0x30, _integer(1) + imprint + _integer(nonce) + b"\x01\x01\xff")


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``at``."""
    if at + 2 > len(data):
        raise TimeStampError("reply", "the reply ends inside a DER header")
    tag, first = data[at], data[at + 1]
    at += 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            raise TimeStampError("reply", "the reply has a bad DER length")
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    else:
        length = first
    if at + length > len(data):
        raise TimeStampError("reply", "a DER element runs past the end of the reply")
    return tag, at, at + length


def token_of(reply: bytes) -> bytes:
    """The ``TimeStampToken`` of a DER ``TimeStampResp``; raises when it was not granted."""
    tag, start, end = _tlv(reply, 0)
    if tag != 0x30:
        raise TimeStampError("reply", "a TimeStampResp is a SEQUENCE")
    status_tag, status_start, status_end = _tlv(reply, start)
    int_tag, int_start, int_end = _tlv(reply, status_start)
    if status_tag != 0x30 or int_tag != 0x02:
        raise TimeStampError("reply", "PKIStatusInfo does not start with the status INTEGER")
    status = int.from_bytes(reply[int_start:int_end], "big", signed=True)
    if status not in GRANTED or status_end >= end:
        raise TimeStampError("reply", f"the TSA did not grant a token (PKIStatus {status})")
    _tag, _token_start, token_end = _tlv(reply, status_end)
    return reply[status_end:token_end]


@dataclass(frozen=True)
class TimeStamp:
    token: bytes
    """The DER ``TimeStampToken`` (a CMS ``SignedData``); ``openssl ts -verify -token_in``."""
    digest: bytes
    tsa_url: str


class TsaClient:
    """Ask the TSA at ``url`` for tokens; check each with ``ca_file`` when one is given."""

    def __init__(self, url: str, *, ca_file: Path | None = None, timeout_s: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise TimeStampError("url", f"{url!r} is not an http(s) URL")
        self.url = url
        self.ca_file = ca_file
        self.timeout_s = timeout_s

    async def stamp(self, digest: bytes) -> TimeStamp:
        """A time-stamp token over ``digest``; raises :class:`TimeStampError`."""
        return await asyncio.to_thread(self.stamp_sync, digest)

    def stamp_sync(self, digest: bytes) -> TimeStamp:
        query = timestamp_request(digest, secrets.randbits(63))
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            self.url, data=query, method="POST", headers={"Content-Type": QUERY_TYPE}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310
                kind = answer.headers.get("Content-Type", "")
                reply = answer.read(1 << 20)
        except (urllib.error.URLError, OSError) as error:
            raise TimeStampError("http", f"{self.url}: {error}") from error
        if kind.split(";")[0].strip() != REPLY_TYPE:
            raise TimeStampError("http", f"{self.url} answered {kind!r}, not {REPLY_TYPE}")
        token = token_of(reply)
        if self.ca_file is not None:
            verify_token(token, digest, self.ca_file, query=query)
        return TimeStamp(token, digest, self.url)


def _openssl(args: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["openssl", *args], capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        raise TimeStampError("openssl", "the openssl command is not installed") from None


def verify_token(
    token: bytes, digest: bytes, ca_file: Path, *, untrusted: Path | None = None,
    query: bytes | None = None,
) -> None:
    """``openssl ts -verify`` of ``token`` over ``digest`` (and the request's nonce, given the
    ``query``) against the CA in ``ca_file``; raises :class:`TimeStampError` with its output."""
    with tempfile.TemporaryDirectory(prefix="exchange-ts-") as folder:
        token_file = Path(folder) / "token.der"
        token_file.write_bytes(token)
        args = ["ts", "-verify", "-token_in", "-in", str(token_file), "-CAfile", str(ca_file)]
        if query is not None:
            query_file = Path(folder) / "query.tsq"
            query_file.write_bytes(query)
            args += ["-queryfile", str(query_file)]
        else:
            args += ["-digest", digest.hex()]
        if untrusted is not None:
            args += ["-untrusted", str(untrusted)]
        done = _openssl(args)
    if done.returncode != 0 or "Verification: OK" not in done.stdout:
        problem = (done.stderr or done.stdout).strip().splitlines()
        raise TimeStampError("token", "; ".join(problem[-3:]) or "openssl ts -verify failed")


def token_time(token: bytes) -> str:
    """The token's ``genTime`` as OpenSSL prints it (e.g. ``Dec  6 22:30:00 2026 GMT``)."""
    with tempfile.TemporaryDirectory(prefix="exchange-ts-") as folder:
        token_file = Path(folder) / "token.der"
        token_file.write_bytes(token)
        done = _openssl(["ts", "-reply", "-token_in", "-in", str(token_file), "-text",
                         "-token_out"])
    for line in done.stdout.splitlines():
        if line.startswith("Time stamp:"):
            return line.partition(":")[2].strip()
    raise TimeStampError("token", "openssl could not read the token's time")
