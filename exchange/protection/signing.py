"""Ed25519 signatures over an event's payload and CloudEvents attributes, and their checks.

The producing agency signs, with its active ``sig`` key, the length-prefixed concatenation of:
a domain tag, the key id, the record key, the value (the Avro body, placeholders included), the
``exchange.sealed`` header (so sealed values cannot be swapped) and every CloudEvents header of
the binary binding (``ce_specversion`` ... ``ce_dataschema``, ``content-type``), absent ones as
empty. The header ``exchange.sig`` is ``<key id>:<base64 signature>``.

**Batch signatures.** A producer that encodes many events at once (:meth:`Signer.headers`)
signs them with one signature: each event's signed bytes are a leaf (``SHA-256(0x00 || bytes)``)
of an RFC 6962 Merkle tree (:mod:`.batch`) and the key signs ``exchange.sig.tree.v1`` (length
prefixed, a domain of its own, so a tree signature is never a single event's and vice versa) +
the tree size (8 bytes, big-endian) + the root. Each event carries its own proof::

    exchange.sig = <key id>:tree:<size>:<index>:<base64 signature>:<base64 audit path>

``size`` >= 2 and ``index`` < ``size`` are decimal without leading zeros; the audit path is the
concatenated 32-byte sibling hashes from the leaf up (exactly as many as (index, size) need).
Key ids and base64 have no ``:``, so the form is unambiguous; a batch of one is signed alone, in
the single form. So every event still verifies alone, in any order: the verifier recomputes the
leaf from the record, folds the path to the root and checks the signature over (size, root),
remembering verified roots (bounded LRU) so the other events of the batch cost only hashes. The
key checks below (revoked included) run for every event before the remembered root is used.

:class:`Verifier` refuses, with a :class:`VerificationError` whose ``reason`` names the rule:

- ``unsigned``       no ``exchange.sig`` header;
- ``unsigned``       ... unless a migration exception in ``topology/trust.toml`` accepts unsigned
                     events on that topic or from that source (``migration``); then the
                     claimed agency is returned (and nothing about the event is proven);
- ``unknown-key``    the key id is not in the key store;
- ``uncertified-key`` the key store learns keys from root certificates (:mod:`.keyring`) and has
                     none for this key, or refused the one it saw (the message says why);
- ``wrong-agency``   the key is not the agency named by ``ce_source`` (``/agencies/<id>/...``);
- ``not-a-writer``   the signing agency may not write the topic the record was read from;
- ``revoked-key``    the key was revoked;
- ``bad-signature``  the signature does not match (tampered payload or attributes, or forged),
                     or a batch signature's header or audit path is malformed;
- ``replayed``       the same ``ce_source`` + ``ce_id`` was already seen at another position of
                     the same topic (a redelivery of the same record at the same offset is not a
                     replay, nor is one event sent to several inboxes, as a workflow fans out a
                     kinship match to both case owners: the signer must be a writer of each).
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.protection import batch
from exchange.protection.envelope import SEALED_HEADER
from exchange.protection.exceptions import (
    KeyStoreError,
    ProofError,
    UncertifiedKeyError,
    VerificationError,
)
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
TREE_DOMAIN = b"exchange.sig.tree.v1"
TREE = "tree"
MAX_TREE_SIZE = 1 << 20
Position = tuple[str, int, int]
Record = tuple[bytes | None, bytes, Sequence[tuple[str, bytes]]]
"""What a signature covers: record key, value, headers."""
_DOMAIN_PART = len(DOMAIN).to_bytes(4, "big") + DOMAIN
_TREE_DOMAIN_PART = len(TREE_DOMAIN).to_bytes(4, "big") + TREE_DOMAIN
_LENGTH = struct.Struct(">I").pack


def signed_bytes(
    key_id: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
) -> bytes:
    """The exact bytes that are signed (see the module docs)."""
    return _signed(key_id, key, value, dict(headers))


def _signed(key_id: str, key: bytes | None, value: bytes, found: Mapping[str, bytes]) -> bytes:
    out = [_DOMAIN_PART]
    for part in (key_id.encode(), key or b"", value, *[found.get(n, b"") for n in SIGNED_HEADERS]):
        out.append(_LENGTH(len(part)))
        out.append(part)
    return b"".join(out)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def tree_message(size: int, root: bytes) -> bytes:
    """What a batch signature signs: the tree domain, the tree size and the root."""
    return _TREE_DOMAIN_PART + size.to_bytes(8, "big") + root


def _decimal(text: str, name: str) -> int:
    if not (0 < len(text) <= 8 and text.isascii() and text.isdigit()) or (
        len(text) > 1 and text[0] == "0"
    ):
        raise ProofError(f"{name} {text[:20]!r} is not a decimal number without leading zeros")
    return int(text)


def _parse_tree(text: str) -> tuple[int, int, bytes, list[bytes]]:
    """``tree:<size>:<index>:<sig>:<path>`` -> size, index, signature, audit path."""
    parts = text.split(":")
    if len(parts) != 5 or parts[0] != TREE:
        raise ProofError("the form is <key id>:tree:<size>:<index>:<signature>:<audit path>")
    size, index = _decimal(parts[1], "size"), _decimal(parts[2], "index")
    if not 2 <= size <= MAX_TREE_SIZE:
        raise ProofError(f"tree size {size} is not in 2..{MAX_TREE_SIZE}")
    if index >= size:
        raise ProofError(f"index {index} is not below the tree size {size}")
    try:
        signature = binascii.a2b_base64(parts[3], strict_mode=True)
        raw_path = binascii.a2b_base64(parts[4], strict_mode=True)
    except (binascii.Error, ValueError):
        raise ProofError("the signature or the audit path is not base64") from None
    if len(raw_path) % batch.HASH_SIZE:
        raise ProofError(f"the audit path is not a whole number of {batch.HASH_SIZE}-byte hashes")
    path = [raw_path[i : i + batch.HASH_SIZE] for i in range(0, len(raw_path), batch.HASH_SIZE)]
    return size, index, signature, path


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
        return SIG_HEADER, f"{self.key_id}:{_b64(signature)}".encode()

    def headers(self, records: Sequence[Record]) -> list[tuple[str, bytes]]:
        """One ``exchange.sig`` header per record, all under one signature (see the module
        docs); a single record is signed alone, in the single form."""
        if len(records) == 1:
            return [self.header(*records[0])]
        if not 2 <= len(records) <= MAX_TREE_SIZE:
            raise ValueError(f"a batch has 1..{MAX_TREE_SIZE} records, not {len(records)}")
        leaves = [batch.leaf_hash(signed_bytes(self.key_id, *record)) for record in records]
        root, paths = batch.tree(leaves)
        size = len(records)
        signature = base64.b64encode(self._key.sign(tree_message(size, root))).decode()
        prefix = f"{self.key_id}:{TREE}:{size}:"
        return [
            (SIG_HEADER, f"{prefix}{i}:{signature}:{_b64(b''.join(path))}".encode())
            for i, path in enumerate(paths)
        ]


class UnsignedPolicy(Protocol):
    """Whether an unsigned record may pass (:class:`exchange.topology.trust.MigrationPolicy`)."""

    def refusal(self, topic: str, agency: str | None) -> str | None:
        """Why an unsigned record on ``topic`` claiming ``agency`` is refused; None: accepted."""
        ...


class Verifier:
    """Check records' signatures and refuse replays (remembers ``replay_window`` event ids)."""

    def __init__(
        self,
        keys: KeyStore,
        *,
        writers_of: Callable[[str], Sequence[str]] | None = None,
        replay_window: int = 1_000_000,
        roots_cached: int = 4096,
        migration: UnsignedPolicy | None = None,
    ) -> None:
        self.keys = keys
        self.writers_of = writers_of
        self.migration = migration
        self.unsigned_accepted = 0
        """Unsigned records let through by a migration exception."""
        self.replay_window = replay_window
        self.roots_cached = roots_cached
        self._seen: OrderedDict[tuple[str, bytes, bytes], Position] = OrderedDict()
        self._roots: OrderedDict[tuple[str, int, bytes, bytes], None] = OrderedDict()
        self.signatures_checked = 0
        """Ed25519 verifications done (a batch's remembered root needs none)."""
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
            return self._unsigned(found, position)
        key_id, _, signature_text = raw.decode(errors="replace").partition(":")
        try:
            agency, _kind, _ = parse_key_id(key_id)
            info = self.keys.info(key_id)
            public = self._public.get(key_id)
            if public is None:  # refuses a key that is not a sig key
                public = self._public[key_id] = self.keys.verifying_key(key_id)
        except UncertifiedKeyError as error:
            raise VerificationError("uncertified-key", f"signed with {key_id!r}: {error}") from None
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
        signed = _signed(key_id, key, value or b"", found)
        if signature_text.startswith(f"{TREE}:"):
            self._verify_tree(key_id, public, signed, signature_text)
        elif ":" in signature_text:
            raise VerificationError(
                "bad-signature",
                f"signature header by {key_id} is malformed: the form is <key id>:<signature> "
                "or <key id>:tree:<size>:<index>:<signature>:<audit path>",
            )
        else:
            try:
                signature = base64.b64decode(signature_text, validate=True)
                self.signatures_checked += 1
                public.verify(signature, signed)
            except (InvalidSignature, ValueError):
                raise VerificationError(
                    "bad-signature", f"signature by {key_id} does not match"
                ) from None
        self._check_replay(found.get("ce_source", b""), found.get("ce_id", b""), position)
        return agency

    def _unsigned(self, found: Mapping[str, bytes], position: Position) -> str:
        """An unsigned record: refused, unless a migration exception in force accepts it (the
        writers and replay checks still apply to the agency it claims)."""
        source = found.get("ce_source", b"").decode(errors="replace")
        agency = agency_of_source(source)
        refusal = (
            "no migration policy is configured"
            if self.migration is None
            else self.migration.refusal(position[0], agency)
        )
        if refusal is not None:
            raise VerificationError("unsigned", f"no {SIG_HEADER} header; {refusal}")
        if agency is None:
            raise VerificationError("unsigned", f"unsigned; ce_source {source!r} names no agency")
        if self.writers_of is not None and agency not in self.writers_of(position[0]):
            raise VerificationError(
                "not-a-writer", f"{agency} may not write {position[0]} (topology writers)"
            )
        self._check_replay(found.get("ce_source", b""), found.get("ce_id", b""), position)
        self.unsigned_accepted += 1
        return agency

    def _verify_tree(self, key_id: str, public: Ed25519PublicKey, signed: bytes, text: str) -> None:
        """A batch signature: fold the record's audit path to the root, then check the one
        signature over (size, root) unless this very (key, size, root, signature) was verified
        already. The key's status was checked by the caller, before this cache is used."""
        try:
            size, index, signature, path = _parse_tree(text)
            root = batch.root_from_path(batch.leaf_hash(signed), index, size, path)
        except ProofError as error:
            raise VerificationError(
                "bad-signature", f"batch signature by {key_id} is malformed: {error.rule}"
            ) from None
        cached = (key_id, size, root, signature)
        if cached in self._roots:
            self._roots.move_to_end(cached)
            return
        self.signatures_checked += 1
        try:
            public.verify(signature, tree_message(size, root))
        except InvalidSignature:
            raise VerificationError(
                "bad-signature",
                f"batch signature by {key_id} does not match (event {index} of {size})",
            ) from None
        self._roots[cached] = None
        if len(self._roots) > self.roots_cached:
            self._roots.popitem(last=False)

    def _check_replay(self, source: bytes, event_id: bytes, position: Position) -> None:
        seen_at = self._seen.get((position[0], source, event_id))
        if seen_at is not None and seen_at != position:
            raise VerificationError(
                "replayed", f"event id already seen at {seen_at[0]}[{seen_at[1]}]@{seen_at[2]}"
            )
        self._seen[(position[0], source, event_id)] = position
        if len(self._seen) > self.replay_window:
            self._seen.popitem(last=False)
