"""Agency keys: a :class:`KeyStore` protocol and a file-based store for development and tests.

Each agency has two kinds of key pairs, each with numbered versions:

- ``sig``: Ed25519, signs the events the agency publishes;
- ``enc``: X25519, receives the data keys wrapped for the agency (and wraps those it sends).

A key id is ``<agency>.<kind>.<n>``, e.g. ``police.enc.2`` (agency ids have no dots). Exactly one
version of each kind is ``active`` (used for new events); rotation makes a new active version
and marks the previous one ``retired``: still trusted to verify and still able to open what was
sealed for it, so older events stay readable. A ``revoked`` key is refused for verification
(a stolen signing key) but a revoked ``enc`` key still opens old events.

:class:`FileKeyStore` layout (``<root>`` is e.g. ``.state/keys``)::

    <root>/public/<agency>.json     public keys and status of every version (share these)
    <root>/private/<key id>         raw private key bytes, mode 0600 (each agency keeps its own)

A deployment gives each agency system the whole ``public`` folder and only its own private keys;
development and tests keep everything in one folder.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from exchange.protection.exceptions import KeyStoreError, UnknownKeyError

__all__ = ["FileKeyStore", "KeyInfo", "KeyKind", "KeyStatus", "KeyStore", "parse_key_id"]

KeyKind = Literal["sig", "enc"]
KeyStatus = Literal["active", "retired", "revoked"]
KINDS: tuple[KeyKind, ...] = ("sig", "enc")


@dataclass(frozen=True)
class KeyInfo:
    """The public part of one key version."""

    key_id: str
    agency: str
    kind: KeyKind
    version: int
    status: KeyStatus
    public: bytes
    created: str


def parse_key_id(key_id: str) -> tuple[str, KeyKind, int]:
    """``police.enc.2`` -> ``("police", "enc", 2)``; raises :class:`UnknownKeyError`."""
    agency, _, rest = key_id.partition(".")
    kind, _, number = rest.partition(".")
    if not agency or kind not in KINDS or not number.isdigit():
        raise UnknownKeyError(key_id, " (a key id is <agency>.<sig|enc>.<n>)")
    return agency, kind, int(number)


class KeyStore(Protocol):
    """What the protection layer needs of a key store (a KMS or HSM can stand behind it)."""

    def info(self, key_id: str) -> KeyInfo: ...
    def active(self, agency: str, kind: KeyKind) -> KeyInfo: ...
    def signing_key(self, key_id: str) -> Ed25519PrivateKey: ...
    def verifying_key(self, key_id: str) -> Ed25519PublicKey: ...
    def decryption_key(self, key_id: str) -> X25519PrivateKey: ...
    def encryption_key(self, key_id: str) -> X25519PublicKey: ...


class FileKeyStore:
    """Keys in files (see the module docs). Reads everything once; :meth:`reload` re-reads."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._infos: dict[str, KeyInfo] = {}
        self._sig: dict[str, Ed25519PrivateKey] = {}
        self._enc: dict[str, X25519PrivateKey] = {}
        self.reload()

    @property
    def public_dir(self) -> Path:
        return self.root / "public"

    @property
    def private_dir(self) -> Path:
        return self.root / "private"

    def reload(self) -> None:
        self._infos.clear()
        self._sig.clear()
        self._enc.clear()
        if not self.public_dir.is_dir():
            return
        for file in sorted(self.public_dir.glob("*.json")):
            try:
                entries = json.loads(file.read_text(encoding="utf-8"))
                for entry in entries:
                    info = KeyInfo(
                        key_id=entry["key_id"],
                        agency=entry["agency"],
                        kind=entry["kind"],
                        version=int(entry["version"]),
                        status=entry["status"],
                        public=base64.b64decode(entry["public"]),
                        created=entry["created"],
                    )
                    self._infos[info.key_id] = info
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise KeyStoreError(f"key file {file} is unreadable: {error}") from error

    # -- KeyStore ----------------------------------------------------------------------

    def info(self, key_id: str) -> KeyInfo:
        found = self._infos.get(key_id)
        if found is None:
            parse_key_id(key_id)
            raise UnknownKeyError(key_id)
        return found

    def active(self, agency: str, kind: KeyKind) -> KeyInfo:
        for info in self._infos.values():
            if info.agency == agency and info.kind == kind and info.status == "active":
                return info
        raise UnknownKeyError(
            f"{agency}.{kind}.*",
            f": {agency} has no active {kind} key; run `exchange keys init --agency {agency}`",
        )

    def signing_key(self, key_id: str) -> Ed25519PrivateKey:
        key = self._sig.get(key_id)
        if key is None:
            key = self._sig[key_id] = Ed25519PrivateKey.from_private_bytes(self._private(key_id))
        return key

    def verifying_key(self, key_id: str) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self._public(key_id, "sig"))

    def decryption_key(self, key_id: str) -> X25519PrivateKey:
        key = self._enc.get(key_id)
        if key is None:
            key = self._enc[key_id] = X25519PrivateKey.from_private_bytes(self._private(key_id))
        return key

    def encryption_key(self, key_id: str) -> X25519PublicKey:
        return X25519PublicKey.from_public_bytes(self._public(key_id, "enc"))

    def _public(self, key_id: str, kind: KeyKind) -> bytes:
        info = self.info(key_id)
        if info.kind != kind:
            raise UnknownKeyError(key_id, f" of kind {kind}")
        return info.public

    def _private(self, key_id: str) -> bytes:
        self.info(key_id)
        try:
            return (self.private_dir / key_id).read_bytes()
        except FileNotFoundError:
            raise UnknownKeyError(
                key_id, f": its private part is not in {self.private_dir} (not this agency's?)"
            ) from None

    # -- management --------------------------------------------------------------------

    def keys_of(self, agency: str) -> list[KeyInfo]:
        return sorted(
            (i for i in self._infos.values() if i.agency == agency),
            key=lambda i: (i.kind, i.version),
        )

    def init(self, agencies: list[str]) -> list[KeyInfo]:
        """Give every agency without keys a first version of each kind; return the new keys."""
        created = []
        for agency in agencies:
            for kind in KINDS:
                if not any(i.kind == kind for i in self.keys_of(agency)):
                    created.append(self._generate(agency, kind, 1))
        return created

    def rotate(self, agency: str, kind: KeyKind) -> KeyInfo:
        """A new active version; the previous active one becomes ``retired`` (still trusted)."""
        versions = [i for i in self.keys_of(agency) if i.kind == kind]
        for old in versions:
            if old.status == "active":
                self._set_status(old, "retired")
        return self._generate(agency, kind, max((i.version for i in versions), default=0) + 1)

    def revoke(self, key_id: str) -> KeyInfo:
        """Refuse ``key_id`` from now on (a revoked ``sig`` key fails verification)."""
        info = self.info(key_id)
        self._set_status(info, "revoked")
        return self.info(key_id)

    def _generate(self, agency: str, kind: KeyKind, version: int) -> KeyInfo:
        key_id = f"{agency}.{kind}.{version}"
        if kind == "sig":
            sig = Ed25519PrivateKey.generate()
            private, public = sig.private_bytes_raw(), sig.public_key().public_bytes_raw()
        else:
            enc = X25519PrivateKey.generate()
            private, public = enc.private_bytes_raw(), enc.public_key().public_bytes_raw()
        self.private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.private_dir / key_id, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(private)
        info = KeyInfo(
            key_id,
            agency,
            kind,
            version,
            "active",
            public,
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self._infos[key_id] = info
        self._save(agency)
        return info

    def _set_status(self, info: KeyInfo, status: KeyStatus) -> None:
        self._infos[info.key_id] = KeyInfo(
            info.key_id, info.agency, info.kind, info.version, status, info.public, info.created
        )
        self._save(info.agency)

    def _save(self, agency: str) -> None:
        self.public_dir.mkdir(parents=True, exist_ok=True)
        entries = [
            {
                "key_id": i.key_id,
                "agency": i.agency,
                "kind": i.kind,
                "version": i.version,
                "status": i.status,
                "public": base64.b64encode(i.public).decode(),
                "created": i.created,
            }
            for i in self.keys_of(agency)
        ]
        target = self.public_dir / f"{agency}.json"
        temporary = target.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")
        temporary.replace(target)
