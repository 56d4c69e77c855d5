"""The RFC 3161 client against the project's real TSA (openssl ts -reply behind HTTP): requests
that OpenSSL reads as meant, tokens that verify, and refusals named (no broker needed)."""

from __future__ import annotations

import hashlib
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange.evidence.exceptions import TimeStampError
from exchange.evidence.tsa import (
    QUERY_TYPE,
    TsaClient,
    timestamp_request,
    token_of,
    token_time,
    verify_token,
)
from exchange.evidence.tsa_authority import TsaServer, init_authority


@pytest.fixture
def tsa(tmp_path: Path) -> Iterator[TsaServer]:
    server = TsaServer(tmp_path / "tsa").start()
    try:
        yield server
    finally:
        server.stop()


def test_openssl_reads_the_request_as_meant(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"root").digest()
    query = tmp_path / "q.tsq"
    query.write_bytes(timestamp_request(digest, 0x80FF))  # a nonce whose top bit is set
    text = subprocess.run(["openssl", "ts", "-query", "-in", str(query), "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "Hash Algorithm: sha256" in text
    assert digest.hex()[:8] in text.replace(" ", "").replace("-", "").lower()
    assert "Nonce: 0x80FF" in text
    assert "Certificate required: yes" in text


def test_a_token_verifies_over_its_digest_only(tsa: TsaServer) -> None:
    digest = hashlib.sha256(b"anchor root").digest()
    stamp = TsaClient(tsa.url, ca_file=tsa.ca_file).stamp_sync(digest)  # checked with the nonce
    verify_token(stamp.token, digest, tsa.ca_file)
    assert token_time(stamp.token).endswith("GMT")
    with pytest.raises(TimeStampError, match="imprint"):
        verify_token(stamp.token, hashlib.sha256(b"other").digest(), tsa.ca_file)


def test_a_token_does_not_verify_against_another_ca(tsa: TsaServer, tmp_path: Path) -> None:
    digest = hashlib.sha256(b"x").digest()
    stamp = TsaClient(tsa.url).stamp_sync(digest)
    other = init_authority(tmp_path / "other") / "ca.pem"
    with pytest.raises(TimeStampError) as refused:
        verify_token(stamp.token, digest, other)
    assert refused.value.stage == "token"


def test_refusals_are_named(tsa: TsaServer) -> None:
    with pytest.raises(TimeStampError, match="not an http"):
        TsaClient("ftp://127.0.0.1/tsa")
    request = urllib.request.Request(  # noqa: S310 (the test's own http URL)
        tsa.url, data=b"x", method="POST", headers={"Content-Type": "text/plain"})
    with pytest.raises(urllib.error.HTTPError) as wrong_type:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310
    assert wrong_type.value.code == 415
    wrong_type.value.close()
    with pytest.raises(TimeStampError, match="did not grant"):
        token_of(bytes.fromhex("30053003020102"))  # status 2: rejection
    with pytest.raises(TimeStampError, match="SEQUENCE"):
        token_of(b"\x04\x00")
    with pytest.raises(ValueError, match="32 bytes"):
        timestamp_request(b"short", 1)
    bad = urllib.request.Request(  # noqa: S310
        tsa.url, data=b"\x30\x00", method="POST", headers={"Content-Type": QUERY_TYPE})
    with urllib.request.urlopen(bad, timeout=5) as answer:  # noqa: S310
        reply = answer.read()  # OpenSSL answers a malformed query with a rejection
    with pytest.raises(TimeStampError, match="did not grant"):
        token_of(reply)


def test_a_stopped_tsa_is_an_http_error(tmp_path: Path) -> None:
    server = TsaServer(tmp_path / "tsa").start()
    url = server.url
    server.stop()
    with pytest.raises(TimeStampError) as failed:
        TsaClient(url, timeout_s=2).stamp_sync(bytes(32))
    assert failed.value.stage == "http"
