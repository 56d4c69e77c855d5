"""The keyring: a key store that knows public keys only from the pinned root's certificates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exchange.protection.certificates import RootKey, certify
from exchange.protection.exceptions import CertificateError, KeyStoreError, UncertifiedKeyError
from exchange.protection.keyring import Keyring
from exchange.protection.keys import FileKeyStore

T0 = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)


@pytest.fixture
def root(tmp_path: Path) -> RootKey:
    return RootKey.create(tmp_path / "root")


@pytest.fixture
def police(tmp_path: Path) -> FileKeyStore:
    store = FileKeyStore(tmp_path / "police")
    store.init(["police"])
    return store


def announce(keyring: Keyring, store: FileKeyStore, key_id: str, root: RootKey, **kw) -> object:
    value = certify(store.info(key_id), root, issued=kw.pop("issued", T0), **kw)
    return keyring.learn(key_id.encode(), value)


def test_rotation_makes_the_new_version_active_and_keeps_the_old_one(
    root: RootKey, police: FileKeyStore
) -> None:
    keyring = Keyring(root.fingerprint)
    announce(keyring, police, "police.sig.1", root)
    assert keyring.active("police", "sig").key_id == "police.sig.1"
    police.rotate("police", "sig")
    announce(keyring, police, "police.sig.2", root, issued=T0 + timedelta(days=1))
    assert keyring.active("police", "sig").key_id == "police.sig.2"
    assert keyring.info("police.sig.1").status == "retired"
    keyring.verifying_key("police.sig.1")  # still trusted for old events


def test_uncertified_keys_are_refused_with_the_reason(
    tmp_path: Path, root: RootKey, police: FileKeyStore
) -> None:
    keyring = Keyring(root.fingerprint)
    with pytest.raises(UncertifiedKeyError, match=r"no certificate for it on exchange\.keys"):
        keyring.info("police.sig.1")
    rogue = RootKey.create(tmp_path / "rogue")
    refused = announce(keyring, police, "police.sig.1", rogue)
    assert isinstance(refused, CertificateError)
    with pytest.raises(UncertifiedKeyError, match="untrusted-root"):
        keyring.verifying_key("police.sig.1")
    with pytest.raises(UncertifiedKeyError, match="police has no certified enc key"):
        keyring.active("police", "enc")


def test_a_revocation_sticks_and_a_conflicting_key_is_refused(
    tmp_path: Path, root: RootKey, police: FileKeyStore
) -> None:
    keyring = Keyring(root.fingerprint)
    announce(keyring, police, "police.sig.1", root)
    announce(keyring, police, "police.sig.1", root, status="revoked", reason="stolen laptop")
    assert keyring.info("police.sig.1").status == "revoked"
    announce(keyring, police, "police.sig.1", root, issued=T0 + timedelta(hours=1))
    assert keyring.info("police.sig.1").status == "revoked"  # an older "active" cannot undo it
    with pytest.raises(UncertifiedKeyError, match="no certified sig key that is not revoked"):
        keyring.active("police", "sig")
    impostor = FileKeyStore(tmp_path / "impostor")
    impostor.init(["police"])
    outcome = announce(keyring, impostor, "police.enc.1", root)
    assert not isinstance(outcome, CertificateError)
    outcome = keyring.learn(
        b"police.enc.1", certify(police.info("police.enc.1"), root, issued=T0)
    )
    assert isinstance(outcome, CertificateError)
    assert outcome.reason == "conflicting"
    assert keyring.info("police.enc.1").public == impostor.info("police.enc.1").public


def test_private_keys_come_from_the_agency_folder_and_must_match_the_certificate(
    tmp_path: Path, root: RootKey, police: FileKeyStore
) -> None:
    reader = Keyring(root.fingerprint)
    announce(reader, police, "police.sig.1", root)
    with pytest.raises(KeyStoreError, match="no private keys"):
        reader.signing_key("police.sig.1")
    own = Keyring(root.fingerprint, police)
    announce(own, police, "police.sig.1", root)
    signature = own.signing_key("police.sig.1").sign(b"x")
    own.verifying_key("police.sig.1").verify(signature, b"x")
    other = FileKeyStore(tmp_path / "other")
    other.init(["police"])
    mismatched = Keyring(root.fingerprint, other)
    announce(mismatched, police, "police.sig.1", root)
    with pytest.raises(KeyStoreError, match="not the one certified"):
        mismatched.signing_key("police.sig.1")


def test_a_record_under_another_key_id_teaches_nothing(root: RootKey, police: FileKeyStore) -> None:
    keyring = Keyring(root.fingerprint)
    value = certify(police.info("police.sig.1"), root, issued=T0)
    outcome = keyring.learn(b"police.sig.9", value)
    assert isinstance(outcome, CertificateError)
    assert keyring.certificates() == []
    assert isinstance(keyring.learn(b"police.sig.1", None), CertificateError)
