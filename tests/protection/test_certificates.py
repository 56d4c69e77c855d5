"""Root certificates of agencies' public keys: what a reader accepts and what it refuses."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange.protection.certificates import RootKey, certify, fingerprint, read_certificate
from exchange.protection.exceptions import CertificateError, KeyStoreError
from exchange.protection.keys import FileKeyStore, KeyInfo

ISSUED = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)


@pytest.fixture
def root(tmp_path: Path) -> RootKey:
    return RootKey.create(tmp_path / "root")


@pytest.fixture
def police_sig(tmp_path: Path) -> KeyInfo:
    store = FileKeyStore(tmp_path / "police")
    store.init(["police"])
    return store.info("police.sig.1")


def test_a_certificate_of_the_pinned_root_is_read_back_as_issued(
    root: RootKey, police_sig: KeyInfo
) -> None:
    raw = certify(police_sig, root, issued=ISSUED)
    cert = read_certificate(raw, root.fingerprint)
    assert (cert.key_id, cert.agency, cert.kind, cert.version) == (
        "police.sig.1", "police", "sig", 1)
    assert cert.public == police_sig.public
    assert cert.status == "active"
    assert cert.issued == "2026-12-06T22:00:00+00:00"
    assert cert.fingerprint == fingerprint(police_sig.public)
    assert root.fingerprint.startswith("SHA256:")
    assert len(root.fingerprint) == len("SHA256:") + 64


def test_another_root_is_refused_even_with_a_valid_signature(
    tmp_path: Path, root: RootKey, police_sig: KeyInfo
) -> None:
    rogue = RootKey.create(tmp_path / "rogue")
    with pytest.raises(CertificateError, match="not by the pinned root") as refused:
        read_certificate(certify(police_sig, rogue, issued=ISSUED), root.fingerprint)
    assert refused.value.reason == "untrusted-root"
    with pytest.raises(CertificateError, match="no root fingerprint is pinned"):
        read_certificate(certify(police_sig, root, issued=ISSUED), None)


def test_a_changed_field_breaks_the_root_signature(root: RootKey, police_sig: KeyInfo) -> None:
    data = json.loads(certify(police_sig, root, issued=ISSUED))
    data["status"] = "revoked"  # e.g. someone tries to flip the status, or un-revoke
    with pytest.raises(CertificateError) as refused:
        read_certificate(json.dumps(data).encode(), root.fingerprint)
    assert refused.value.reason == "bad-signature"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("reason"), "fields must be exactly"),
        (lambda d: d.update(key_id="police.sig.2"), "disagree with police.sig.2"),
        (lambda d: d.update(public="AAAA"), "public is not base64 of 32 bytes"),
        (lambda d: d.update(status="maybe"), "status must be active or revoked"),
        (lambda d: d.update(issued="yesterday"), "issued is not an ISO time"),
    ],
)
def test_malformed_certificates_name_the_field(
    root: RootKey, police_sig: KeyInfo, change, message: str
) -> None:
    data = json.loads(certify(police_sig, root, issued=ISSUED))
    change(data)
    with pytest.raises(CertificateError, match=message) as refused:
        read_certificate(json.dumps(data).encode(), root.fingerprint)
    assert refused.value.reason == "malformed"
    with pytest.raises(CertificateError, match="not a JSON object"):
        read_certificate(b"\xff", root.fingerprint)


def test_the_root_key_is_private_and_made_once(tmp_path: Path, root: RootKey) -> None:
    file = tmp_path / "root" / "root.ed25519"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert RootKey.load(tmp_path / "root").fingerprint == root.fingerprint
    with pytest.raises(KeyStoreError, match="made once"):
        RootKey.create(tmp_path / "root")
    with pytest.raises(KeyStoreError, match="root-init"):
        RootKey.load(tmp_path / "elsewhere")
