"""Key certificates: the joint-meeting office's root key vouches for an agency's public key.

A certificate is one UTF-8 JSON object, the value of a record of ``exchange.keys`` whose key is
the key id::

    {"v": 1, "key_id": "police.sig.2", "agency": "police", "kind": "sig", "version": 2,
     "public": "<base64, 32 bytes>", "created": "<ISO time the agency made the key>",
     "status": "active" | "revoked", "issued": "<ISO time the office signed this>",
     "reason": "<why revoked; empty otherwise>",
     "root": "<base64 Ed25519 public root key>", "signature": "<base64 Ed25519>"}

The signature is the root key's over ``exchange.keycert.v1`` + 0x0A + the object without
``signature`` as canonical JSON (keys sorted, no spaces, ASCII). A reader trusts it only when
the root key's fingerprint (``SHA256:`` + hex of SHA-256 of its 32 raw bytes) is the one pinned
in ``topology/trust.toml``: the root key travels in the certificate, its trust in the topology.

Rotation needs no status change: a newer version of the same agency and kind, once certified,
is the active one; older versions stay trusted (retired) so old events still verify and open. A
revocation is a certificate of the same key with ``status = "revoked"`` and a reason; it replaces
the earlier one on the compacted topic and readers never un-revoke a key.

:func:`read_certificate` raises :class:`CertificateError` whose ``reason`` is
``malformed``, ``untrusted-root`` or ``bad-signature``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exchange.protection.exceptions import CertificateError, KeyStoreError
from exchange.protection.keys import KINDS, KeyInfo, parse_key_id

__all__ = [
    "Certificate",
    "RootKey",
    "certify",
    "fingerprint",
    "read_certificate",
]

CERT_DOMAIN = b"exchange.keycert.v1\n"
CertStatus = Literal["active", "revoked"]
ROOT_FILE = "root.ed25519"


def fingerprint(public: bytes) -> str:
    """``SHA256:<hex>`` of a raw public key: what is pinned and compared out of band."""
    return "SHA256:" + hashlib.sha256(public).hexdigest()


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True)
class Certificate:
    """A verified certificate (see the module docs)."""

    key_id: str
    agency: str
    kind: Literal["sig", "enc"]
    version: int
    public: bytes
    created: str
    status: CertStatus
    issued: str
    reason: str
    root: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    def body(self) -> dict[str, Any]:
        data = asdict(self)
        data["public"] = base64.b64encode(self.public).decode()
        data["root"] = base64.b64encode(self.root).decode()
        return {"v": 1, **data}


class RootKey:
    """The joint-meeting office's Ed25519 root key, kept in ``<dir>/root.ed25519`` (0600)."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key().public_bytes_raw()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    @classmethod
    def create(cls, directory: Path) -> RootKey:
        """Make a new root key in ``directory``; refuses to overwrite one."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        try:
            descriptor = os.open(directory / ROOT_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyStoreError(
                f"{directory / ROOT_FILE} exists already: a root key is made once"
            ) from None
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key.private_bytes_raw())
        return cls(key)

    @classmethod
    def load(cls, directory: Path) -> RootKey:
        file = directory / ROOT_FILE
        try:
            raw = file.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(
                f"no root key in {file}: this is the joint-meeting office's command "
                "(run `exchange keys root-init` there once)"
            ) from None
        if len(raw) != 32:
            raise KeyStoreError(f"{file} is not a raw 32-byte Ed25519 private key")
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)


def certify(
    info: KeyInfo, root: RootKey, *, issued: datetime, status: CertStatus = "active",
    reason: str = "",
) -> bytes:
    """The certificate of ``info``'s public key, signed by ``root``, as record value bytes."""
    certificate = Certificate(
        info.key_id, info.agency, info.kind, info.version, info.public, info.created, status,
        issued.isoformat(timespec="seconds"), reason, root.public,
    )  # fmt: skip
    body = certificate.body()
    body["signature"] = base64.b64encode(root.sign(CERT_DOMAIN + canonical(body))).decode()
    return canonical(body)


def read_certificate(raw: bytes, pinned: str | None) -> Certificate:
    """Parse ``raw`` and check it was signed by the root whose fingerprint is ``pinned``."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise CertificateError("malformed", "not a JSON object") from None
    if not isinstance(data, dict):
        raise CertificateError("malformed", "not a JSON object")
    body = dict(data)
    signature = _b64(body.pop("signature", None), "signature", None)
    certificate = _certificate(body)
    if pinned is None:
        raise CertificateError(
            "untrusted-root",
            f"{certificate.key_id}: no root fingerprint is pinned in topology/trust.toml",
        )
    if fingerprint(certificate.root) != pinned:
        raise CertificateError(
            "untrusted-root",
            f"{certificate.key_id} is certified by root {fingerprint(certificate.root)}, "
            f"not by the pinned root {pinned}",
        )
    try:
        Ed25519PublicKey.from_public_bytes(certificate.root).verify(
            signature, CERT_DOMAIN + canonical(body)
        )
    except InvalidSignature:
        raise CertificateError(
            "bad-signature", f"{certificate.key_id}: the root's signature does not match"
        ) from None
    return certificate


def _certificate(body: dict[str, Any]) -> Certificate:
    expected = {"v", *Certificate.__dataclass_fields__}
    if set(body) != expected:
        raise CertificateError("malformed", f"fields must be exactly {sorted(expected)}")
    if body["v"] != 1:
        raise CertificateError("malformed", f"version {body['v']!r} is not 1")
    key_id = body["key_id"]
    if not isinstance(key_id, str):
        raise CertificateError("malformed", "key_id is not a string")
    try:
        agency, kind, version = parse_key_id(key_id)
    except KeyStoreError:
        raise CertificateError(
            "malformed", f"key_id {key_id!r} is not <agency>.<kind>.<n>"
        ) from None
    if (body["agency"], body["kind"], body["version"]) != (agency, kind, version):
        raise CertificateError("malformed", f"agency, kind and version disagree with {key_id}")
    if kind not in KINDS or body["status"] not in ("active", "revoked"):
        raise CertificateError("malformed", f"{key_id}: status must be active or revoked")
    for name in ("created", "issued", "reason"):
        if not isinstance(body[name], str):
            raise CertificateError("malformed", f"{key_id}: {name} is not a string")
    try:
        datetime.fromisoformat(body["issued"])
    except ValueError:
        raise CertificateError("malformed", f"{key_id}: issued is not an ISO time") from None
    return Certificate(
        key_id, agency, kind, version, _b64(body["public"], "public", 32), body["created"],
        body["status"], body["issued"], body["reason"], _b64(body["root"], "root", 32),
    )  # fmt: skip


def _b64(value: Any, name: str, size: int | None) -> bytes:
    try:
        raw = binascii.a2b_base64(value, strict_mode=True) if isinstance(value, str) else None
    except (binascii.Error, ValueError):
        raw = None
    if raw is None or (size is not None and len(raw) != size):
        wanted = f" of {size} bytes" if size is not None else ""
        raise CertificateError("malformed", f"{name} is not base64{wanted}")
    return raw
