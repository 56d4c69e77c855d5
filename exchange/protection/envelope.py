"""Envelope encryption of an event's sensitive values, carried in the ``exchange.sealed`` header.

Wire design (the record value stays the single-object Avro of the event's own schema, DESIGN §2):

- the producer takes every sensitive leaf out of the dumped event (:mod:`.fields`) and puts a
  placeholder of its type in the body;
- the taken values are grouped by tag set, and tag sets that exactly the same recipients may
  open are merged into one group (tagged with their union: every recipient holds all of its
  categories, so nobody opens more, and an event needs fewer ciphers); each group's values
  are encrypted with AES-256-GCM under a **fresh random data key** (one per group per event),
  with the event's ``ce_source``, ``ce_id``, ``ce_type``, the tags and the paths as
  associated data, so a ciphertext cannot be moved to another event or field;
- the data keys are wrapped for every reader of the topic entitled to all of a group's tags
  (:mod:`.entitlements`): per recipient, one AES-256-GCM *bundle* of ``(group index, data key)``
  pairs for the groups it may open, under a key-encryption key derived with HKDF-SHA256
  from X25519(sender's ``enc`` key, recipient's ``enc`` key). Both sides cache that derived key
  per key pair, so per event only symmetric work is done (a fresh ephemeral X25519 per event
  and recipient would cost ~10x more; the static pair authenticates the sender too);
- key ids are named in the header (``police.enc.2``), so rotation never breaks old events: the
  retired private key still opens what was wrapped for it.

The header's bytes, version 2 (binary, written) and version 1 (JSON, still read), are laid out
in :mod:`.sealed`. A group's values are encrypted as they are (a string as its UTF-8 bytes, a
number as its text, anything else as JSON, each with a one-byte kind and a length) and the
ciphertexts are carried without base64.

The paths present in a group are those that carried a value (an absent optional value is not
sealed); every other tagged path that a reader cannot open is a placeholder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from exchange.protection.exceptions import KeyStoreError, SealError, VerificationError
from exchange.protection.fields import SealPlan, put
from exchange.protection.keys import KeyStore
from exchange.protection.sealed import (
    VERSION_2,
    FormatError,
    SealedHeader,
    group_layout,
    pack_values,
    read,
    unpack_values,
    write_v2,
)

SEALED_HEADER = "exchange.sealed"
DATA_NONCE = bytes(12)

Recipients = Callable[[frozenset[str]], Iterable[str]]


@dataclass(frozen=True)
class Opened:
    """What a reader could open of one event."""

    paths: tuple[str, ...]  # opened
    protected: tuple[str, ...]  # sealed, not for this reader
    categories: frozenset[str]  # the tags of the groups opened


class KekCache:
    """Key-encryption keys derived per (own enc key, peer enc key), computed once."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys
        self._keks: dict[tuple[str, str], AESGCM] = {}

    def kek(self, own: str, peer: str, *, sender: str) -> AESGCM:
        """The wrapping cipher between ``own`` (whose private key we hold) and ``peer``."""
        found = self._keks.get((own, peer))
        if found is None:
            recipient = peer if sender == own else own
            shared = self.keys.decryption_key(own).exchange(self.keys.encryption_key(peer))
            info = f"exchange.kek.v1|{sender}|{recipient}".encode()
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info)
            found = self._keks[(own, peer)] = AESGCM(derived.derive(shared))
        return found


class Sealer:
    """Seal the sensitive values of events published by one agency."""

    def __init__(self, keys: KeyStore, agency: str) -> None:
        self.keys = keys
        self.agency = agency
        self.keks = KekCache(keys)
        self._recipient_keys: dict[str, str] = {}
        self._own: str | None = None

    def own_key(self) -> str:
        """The agency's active ``enc`` key id (looked up once: after a rotation, make a new
        sealer, e.g. a new ``ProtectedCodec``)."""
        if self._own is None:
            self._own = self.keys.active(self.agency, "enc").key_id
        return self._own

    def recipient_key(self, agency: str) -> str:
        found = self._recipient_keys.get(agency)
        if found is None:
            found = self._recipient_keys[agency] = self.keys.active(agency, "enc").key_id
        return found

    def seal(
        self, data: dict[str, Any], plan: SealPlan, event_key: bytes, recipients: Recipients
    ) -> bytes | None:
        """Take the plan's values out of ``data`` (placeholders put in) and return the header
        value, or None when the event carried no sensitive value."""
        groups: list[tuple[bytes, bytes]] = []
        bundles: dict[str, bytearray] = {}
        by_tags = plan.take_all(data)
        # Tag groups that exactly the same agencies may open share one data key and ciphertext:
        # each of those agencies is entitled to every tag of the merged group, so nobody opens
        # more than before, and there are fewer AES-GCM operations per event.
        merged: dict[tuple[str, ...], tuple[set[str], dict[str, Any]]] = {}
        for tags, _leaves in plan.groups:
            taken = by_tags.get(tags)
            if not taken:
                continue
            readers = tuple(recipients(tags))
            entry = merged.get(readers)
            if entry is None:
                entry = merged[readers] = (set(), {})
            entry[0].update(tags)
            entry[1].update(taken)
        for readers, (merged_tags, taken) in merged.items():
            try:
                prefix, tail = group_layout(tuple(sorted(merged_tags)), tuple(taken))
                plain = pack_values(taken.values())
            except (TypeError, ValueError) as error:
                raise SealError(plan.event_type, f"fields {list(taken)}: {error}") from error
            data_key = AESGCM.generate_key(bit_length=256)
            # A fresh key encrypts exactly one message, so a constant nonce is safe here.
            sealed = AESGCM(data_key).encrypt(DATA_NONCE, plain, event_key + tail)
            index = bytes((len(groups),))
            for agency in readers:
                bundles.setdefault(agency, bytearray()).extend(index + data_key)
            groups.append((prefix, sealed))
        if not groups:
            return None
        own = self.own_key()
        wrapped = []
        for agency, bundle in bundles.items():
            peer = self.recipient_key(agency)
            nonce = os.urandom(12)
            kek = self.keks.kek(own, peer, sender=own)
            wrapped.append((peer, nonce + kek.encrypt(nonce, bytes(bundle), event_key)))
        try:
            return write_v2(own, wrapped, groups)
        except FormatError as error:
            raise SealError(plan.event_type, str(error)) from error


class Opener:
    """Open what an agency is entitled to in the ``exchange.sealed`` header of an event."""

    def __init__(self, keys: KeyStore, agency: str) -> None:
        self.keys = keys
        self.agency = agency
        self.keks = KekCache(keys)

    def open(self, header: bytes, record: dict[str, Any], event_key: bytes, signer: str) -> Opened:
        """Put every value this agency may read back into ``record``; raises
        :class:`VerificationError` ("bad-envelope") when the header or a ciphertext is wrong,
        or when it was sealed with a key that is not the (verified) ``signer``'s."""
        try:
            sealed = read(header)
        except FormatError as error:
            raise VerificationError(
                "bad-envelope", f"{SEALED_HEADER} is not valid: {error}"
            ) from error
        sender = sealed.sender
        if sender.partition(".")[0] != signer:
            raise VerificationError(
                "bad-envelope", f"sealed with {sender!r}, not a key of the signer {signer!r}"
            )
        data_keys = self._unwrap(sealed, event_key)
        opened: list[str] = []
        protected: list[str] = []
        categories: set[str] = set()
        for index, group in enumerate(sealed.groups):
            paths = group.paths
            data_key = data_keys.get(index)
            if data_key is None:  # not this reader's: its ciphertext is not even looked at
                protected.extend(paths)
                continue
            try:
                plain = AESGCM(data_key).decrypt(
                    DATA_NONCE, sealed.ciphertext(group), event_key + group.aad_tail
                )
                values = unpack_values(plain) if sealed.version == VERSION_2 else json.loads(plain)
            except (InvalidTag, ValueError, TypeError) as error:
                raise VerificationError(
                    "bad-envelope", f"sealed group {index} does not open ({type(error).__name__})"
                ) from error
            if len(values) != len(paths):
                raise VerificationError("bad-envelope", "a sealed group's values and paths differ")
            for path, value in zip(paths, values, strict=True):
                try:
                    put(record, path, value)
                except KeyError:
                    raise VerificationError(
                        "bad-envelope", f"sealed path {path!r} is not in the event"
                    ) from None
            opened.extend(paths)
            categories.update(group.tags)
        return Opened(tuple(opened), tuple(protected), frozenset(categories))

    def _unwrap(self, sealed: SealedHeader, event_key: bytes) -> dict[int, bytes]:
        """The data keys wrapped for this agency, by group index (none: empty)."""
        mine = [k for k in sealed.keys if k.partition(".")[0] == self.agency]
        if not mine:
            return {}
        own = mine[0]
        try:
            kek = self.keks.kek(own, sealed.sender, sender=sealed.sender)
        except KeyStoreError as error:
            raise VerificationError("bad-envelope", f"cannot unwrap with {own}: {error}") from error
        try:
            wrapped = sealed.wrapped(own)
            bundle = kek.decrypt(wrapped[:12], wrapped[12:], event_key)
        except (InvalidTag, ValueError, TypeError) as error:
            raise VerificationError(
                "bad-envelope", f"the data keys do not unwrap with {own} ({type(error).__name__})"
            ) from error
        return {bundle[i]: bundle[i + 1 : i + 33] for i in range(0, len(bundle), 33)}
