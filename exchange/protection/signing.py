"""Ed25519 signatures over an event's payload and CloudEvents attributes, and their checks.

The producing agency signs, with its active ``sig`` key, the length-prefixed concatenation of:
a domain tag, the key id, the record key, the value (the Avro body, placeholders included), the
``exchange.sealed`` header (so sealed values cannot be swapped) and every CloudEvents header of
the binary binding (``ce_specversion`` ... ``ce_dataschema``, ``content-type``), absent ones as
empty. The header ``exchange.sig`` is ``<key id>:<base64 signature>``.

:class:`Verifier` refuses, with a :class:`VerificationError` whose ``reason`` names the rule:

- ``unsigned``       no ``exchange.sig`` header;
- ``unknown-key``    the key id is not in the key store;
- ``wrong-agency``   the key is not the agency named by ``ce_source`` (``/agencies/<id>/...``);
- ``not-a-writer``   the signing agency may not write the topic the record was read from;
- ``revoked-key``    the key was revoked;
- ``bad-signature``  the signature does not match (tampered payload or attributes, or forged);
- ``replayed``       the same ``ce_source`` + ``ce_id`` was already seen at another position
                     (a redelivery of the same record at the same offset is not a replay).
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Callable, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.protection.envelope import SEALED_HEADER
from exchange.protection.exceptions import KeyStoreError, VerificationError
from exchange.protection.keys import KeyStore, parse_key_id

SIG_HEADER = "exchange.sig"
DOMAIN = b"exchange.sig.v1"
SIGNED_HEADERS = (
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "content-type",
    "ce_dataschema",
    SEALED_HEADER,
)
Position = tuple[str, int, int]
_DOMAIN_PART = len(DOMAIN).to_bytes(4, "big") + DOMAIN


def signed_bytes(
    key_id: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
) -> bytes:
    """The exact bytes that are signed (see the module docs)."""
    found = dict(headers)
    out = bytearray(_DOMAIN_PART)
    for part in (key_id.encode(), key or b"", value, *[found.get(n, b"") for n in SIGNED_HEADERS]):
        out += len(part).to_bytes(4, "big")
        out += part
    return bytes(out)


def agency_of_source(source: str) -> str | None:
    """``/agencies/police/case-system`` -> ``police``; None for any other form."""
    parts = source.split("/")
    if len(parts) >= 3 and parts[0] == "" and parts[1] == "agencies" and parts[2]:
        return parts[2]
    return None


class Signer:
    """Sign records as one agency with its active key."""

    def __init__(self, keys: KeyStore, agency: str) -> None:
        info = keys.active(agency, "sig")
        self.key_id = info.key_id
        self._key = keys.signing_key(info.key_id)

    def header(
        self, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> tuple[str, bytes]:
        signature = self._key.sign(signed_bytes(self.key_id, key, value, headers))
        return SIG_HEADER, f"{self.key_id}:{base64.b64encode(signature).decode()}".encode()


class Verifier:
    """Check records' signatures and refuse replays (remembers ``replay_window`` event ids)."""

    def __init__(
        self,
        keys: KeyStore,
        *,
        writers_of: Callable[[str], Sequence[str]] | None = None,
        replay_window: int = 1_000_000,
    ) -> None:
        self.keys = keys
        self.writers_of = writers_of
        self.replay_window = replay_window
        self._seen: OrderedDict[tuple[bytes, bytes], Position] = OrderedDict()
        self._public: dict[str, Ed25519PublicKey] = {}

    def verify(
        self,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
        position: Position,
    ) -> str:
        """Verify one record read at ``position`` (topic, partition, offset); return the
        signing agency, or raise :class:`VerificationError`."""
        found = dict(headers)
        raw = found.get(SIG_HEADER)
        if not raw:
            raise VerificationError("unsigned", f"no {SIG_HEADER} header")
        key_id, _, signature_text = raw.decode(errors="replace").partition(":")
        try:
            agency, _kind, _ = parse_key_id(key_id)
            info = self.keys.info(key_id)
            public = self._public.get(key_id)
            if public is None:  # refuses a key that is not a sig key
                public = self._public[key_id] = self.keys.verifying_key(key_id)
        except KeyStoreError as error:
            raise VerificationError("unknown-key", f"signed with {key_id!r}: {error}") from None
        source = found.get("ce_source", b"").decode(errors="replace")
        if agency_of_source(source) != agency:
            raise VerificationError(
                "wrong-agency", f"signed with {key_id}, which is not the key of {source!r}"
            )
        if self.writers_of is not None and agency not in self.writers_of(position[0]):
            raise VerificationError(
                "not-a-writer", f"{agency} may not write {position[0]} (topology writers)"
            )
        if info.status == "revoked":
            raise VerificationError("revoked-key", f"{key_id} has been revoked")
        try:
            signature = base64.b64decode(signature_text, validate=True)
            public.verify(signature, signed_bytes(key_id, key, value or b"", headers))
        except (InvalidSignature, ValueError):
            raise VerificationError(
                "bad-signature", f"signature by {key_id} does not match"
            ) from None
        self._check_replay(found.get("ce_source", b""), found.get("ce_id", b""), position)
        return agency

    def _check_replay(self, source: bytes, event_id: bytes, position: Position) -> None:
        seen_at = self._seen.get((source, event_id))
        if seen_at is not None and seen_at != position:
            raise VerificationError(
                "replayed", f"event id already seen at {seen_at[0]}[{seen_at[1]}]@{seen_at[2]}"
            )
        self._seen[(source, event_id)] = position
        if len(self._seen) > self.replay_window:
            self._seen.popitem(last=False)
