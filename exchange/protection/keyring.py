"""A :class:`~exchange.protection.keys.KeyStore` that knows public keys only from certificates.

:class:`Keyring` is fed the records of ``exchange.keys`` (:meth:`Keyring.learn`, by
:class:`exchange.protection.key_bus.KeyFollower`) and keeps every certificate that the pinned
root signed (:mod:`.certificates`). Private keys come from the agency's own folder (a
:class:`~exchange.protection.keys.FileKeyStore` that holds only its keys), so the verifier,
sealer and opener use it unchanged.

Rules, in the order records arrive:

- a record whose certificate is refused (malformed, another root, bad signature) teaches
  nothing; the refusal is remembered, so an event signed with that key is quarantined as
  ``uncertified-key`` with the certificate's problem in its message;
- a key never certified is refused the same way ("no certificate on exchange.keys");
- a certificate that gives a known key id another public key is refused (``conflicting``);
- a revocation sticks: a later ``active`` certificate of the same key does not undo it;
- status: ``revoked`` if revoked, ``active`` for the highest certified version of an agency's
  kind that is not revoked, ``retired`` for the older ones (still trusted: old events verify).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from exchange.protection.certificates import Certificate, read_certificate
from exchange.protection.exceptions import (
    CertificateError,
    KeyStoreError,
    UncertifiedKeyError,
    UnknownKeyError,
)
from exchange.protection.keys import KeyInfo, KeyKind, KeyStatus, KeyStore, parse_key_id

__all__ = ["Keyring"]

NOT_ANNOUNCED = "no certificate for it on exchange.keys"


class Keyring:
    """Certified public keys (learned from the bus) plus this agency's own private keys."""

    def __init__(self, pinned_root: str | None, private: KeyStore | None = None) -> None:
        self.pinned_root = pinned_root
        self.private = private
        self._certs: dict[str, Certificate] = {}
        self._refused: dict[str, str] = {}
        self._checked_private: set[str] = set()

    # -- learning ----------------------------------------------------------------------

    def learn(self, key: bytes | None, value: bytes | None) -> Certificate | CertificateError:
        """Apply one record of ``exchange.keys``; return the certificate kept or the refusal."""
        key_id = (key or b"").decode(errors="replace")
        if value is None:  # a tombstone: a revocation is never forgotten, nor a certificate
            return CertificateError("malformed", f"{key_id}: a tombstone teaches nothing")
        try:
            certificate = self._check(key_id, value)
        except CertificateError as error:
            if key_id and key_id not in self._certs:
                self._refused = {**self._refused, key_id: str(error)}
            return error
        known = self._certs.get(certificate.key_id)
        if known is None or known.status != "revoked":
            # copy on write: a follower thread may learn while the consumer's thread reads
            self._certs = {**self._certs, certificate.key_id: certificate}
        if certificate.key_id in self._refused:
            self._refused = {k: v for k, v in self._refused.items() if k != certificate.key_id}
        return self._certs[certificate.key_id]

    def _check(self, key_id: str, value: bytes) -> Certificate:
        certificate = read_certificate(value, self.pinned_root)
        if key_id and certificate.key_id != key_id:
            raise CertificateError(
                "malformed", f"record key {key_id!r} is not its key id {certificate.key_id}"
            )
        known = self._certs.get(certificate.key_id)
        if known is not None and known.public != certificate.public:
            raise CertificateError(
                "conflicting", f"{certificate.key_id} was certified with another public key before"
            )
        return certificate

    def certificates(self) -> list[Certificate]:
        return sorted(self._certs.values(), key=lambda c: (c.agency, c.kind, c.version))

    def refused(self) -> dict[str, str]:
        """Key ids announced with a refused certificate, and why."""
        return dict(self._refused)

    # -- KeyStore ----------------------------------------------------------------------

    def info(self, key_id: str) -> KeyInfo:
        certificate = self._certs.get(key_id)
        if certificate is None:
            parse_key_id(key_id)
            raise UncertifiedKeyError(key_id, self._refused.get(key_id, NOT_ANNOUNCED))
        return KeyInfo(
            certificate.key_id, certificate.agency, certificate.kind, certificate.version,
            self._status(certificate), certificate.public, certificate.created,
        )  # fmt: skip

    def active(self, agency: str, kind: KeyKind) -> KeyInfo:
        live = [
            c for c in self._certs.values()
            if c.agency == agency and c.kind == kind and c.status != "revoked"
        ]  # fmt: skip
        if not live:
            raise UncertifiedKeyError(
                f"{agency}.{kind}.*", f"{agency} has no certified {kind} key that is not revoked"
            )
        return self.info(max(live, key=lambda c: c.version).key_id)

    def signing_key(self, key_id: str) -> Ed25519PrivateKey:
        key = self._own().signing_key(key_id)
        self._matches(key_id, key.public_key().public_bytes_raw())
        return key

    def verifying_key(self, key_id: str) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self._public(key_id, "sig"))

    def decryption_key(self, key_id: str) -> X25519PrivateKey:
        key = self._own().decryption_key(key_id)
        self._matches(key_id, key.public_key().public_bytes_raw())
        return key

    def encryption_key(self, key_id: str) -> X25519PublicKey:
        return X25519PublicKey.from_public_bytes(self._public(key_id, "enc"))

    # -- helpers -----------------------------------------------------------------------

    def _status(self, certificate: Certificate) -> KeyStatus:
        if certificate.status == "revoked":
            return "revoked"
        newer = any(
            c.agency == certificate.agency and c.kind == certificate.kind
            and c.version > certificate.version and c.status != "revoked"
            for c in self._certs.values()
        )  # fmt: skip
        return "retired" if newer else "active"

    def _public(self, key_id: str, kind: KeyKind) -> bytes:
        info = self.info(key_id)
        if info.kind != kind:
            raise UnknownKeyError(key_id, f" of kind {kind}")
        return info.public

    def _own(self) -> KeyStore:
        if self.private is None:
            raise KeyStoreError("this keyring has no private keys (a reader of certificates only)")
        return self.private

    def _matches(self, key_id: str, public: bytes) -> None:
        """A private key is used only when the bus certified its very public key."""
        if key_id in self._checked_private:
            return
        if self.info(key_id).public != public:
            raise KeyStoreError(
                f"the private key {key_id} in this agency's folder is not the one certified on "
                "exchange.keys: request certification again (`exchange keys request`)"
            )
        self._checked_private.add(key_id)
