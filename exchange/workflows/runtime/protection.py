"""The worker's protected mode: verify and open its inputs, seal and sign its outputs and state.

:class:`WorkerProtection` is the one object the runtime calls when the worker runs protected
(``exchange worker``: the default; only ``--unprotected`` runs it without, loudly). It acts as
the ``workflows`` agency with the keys of the key store (``<state>/keys``):

- **inputs** (:meth:`open`): every record of a source topic is verified and opened with the
  :class:`~exchange.protection.protected.ProtectedCodec` *before* the runtime's dedupe and
  handlers. Unsigned, forged, tampered and replayed records, and keys revoked or not the
  sender's, go unchanged to ``exchange.quarantine.workflows`` with the reason in headers,
  counted in ``exchange_events_quarantined_total`` and audited as ``quarantined``; no handler
  sees them. The worker opens what ``topology/entitlements.toml`` grants it: every category,
  because the referral rules route a rescued person by health needs, family situation and
  home region (a sealed fact would reach the rules as its placeholder, false or empty, and
  refer the person wrongly: the demo's protected run showed it). Its table state is sealed
  at rest and its outputs are sealed again for their readers.
- **outputs** (:attr:`encoder`): the worker's one encoder, chosen when its context is built:
  every event the workflows emit (``Streams.emit``, the one send path) is encoded sealed for
  the readers of its topic and signed as ``workflows``, once; internal records (timer ticks)
  are not events and are sent as they are. Each output is audited as ``routed``
  (:meth:`routed`; partition and offset -1: they are not known when the record is handed to
  the producer; the topic and the output's ``ce_id`` identify it).
- **state** (:meth:`table`): every table value is sealed with AES-256-GCM under a key derived
  (HKDF-SHA256) from the workflows' active ``enc`` key, bound to the table and key as
  associated data, so neither the RocksDB files nor the changelog topics hold plaintext. The
  key id travels with each value: after ``exchange keys rotate --agency workflows`` old values
  still open and new ones use the new key. A value written by an unprotected worker (no prefix) is
  read as it is and sealed when next written.
- **audit**: ``delivered`` (with the categories opened) for every input handled,
  ``routed`` and ``quarantined`` as above, in one hash chain per worker process, sent through
  the worker's producer like its other records (``exchange audit case <case-id>`` lists them);
  the chain's head is signed every 100 records and 60 s after an unsigned record (a timer of
  the app; :mod:`exchange.evidence.checkpoints`), and once more when the worker stops cleanly
  (faust's ``on_before_shutdown``: after the last event was handled, before the producer's
  last flush). The worker's producer is idempotent (``faust_patches.tune_producer``), so a
  retried send does not write an audit record twice.
- **fail closed** (:class:`~exchange.evidence.guard.AuditGuard`, the policy of
  ``EXCHANGE_AUDIT__FAIL_CLOSED__*``): the worker's checkpoints are watched for in the notary's
  anchors (``exchange.notary``); while they wait longer than the policy allows (TSA or notary
  down), the worker takes no new input: the next event is *held* before it is opened, not
  refused (it stays on its topic, uncommitted, and is handled once the anchors come), with
  ``exchange_audit_fail_closed{agency="workflows"}`` 1. An audit record the producer cannot
  deliver stops the worker like any other undelivered record (``emit.send``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

import faust
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from exchange.codec import DecodedEvent, EncodedEvent, EventCodec
from exchange.codec.exceptions import DecodeError
from exchange.evidence.checkpoints import AnchoredTrail, CheckpointPolicy
from exchange.evidence.guard import NOTARY_TOPIC, AnchorWatcher, AuditGuard, GuardedSink
from exchange.evidence.metrics import EvidenceMetrics
from exchange.protection.audit import AUDIT_TOPIC, CONTENT_TYPE, AuditTrail
from exchange.protection.encoder import ProtectedEncoder
from exchange.protection.exceptions import ProtectionError
from exchange.protection.keys import KeyStore
from exchange.protection.protected import OpenedEvent, ProtectedCodec
from exchange.protection.quarantine import Quarantine, quarantine_topic
from exchange.settings import AuditSettings, KafkaSettings
from exchange.topology.model import Topology
from exchange.workflows.runtime.context import AGENCY, WorkflowContext
from exchange.workflows.runtime.emit import send
from exchange.workflows.runtime.records import Incoming

log = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]
GUARD_EVERY_S = 0.5
"""How often the per-event path asks the fail-closed guard (it sets three gauges each time)."""
STATE_PREFIX = b"\xa5ws1:"
"""Marks a sealed table value: prefix, key id, ``\\x00``, 12-byte nonce, AES-GCM ciphertext."""
_STATE_INFO = b"exchange.workflows.state.v1"


class StateOpenError(ProtectionError):
    """A sealed table value does not open (wrong key, altered, or moved to another key)."""

    def __init__(self, table: str, key: str, problem: str) -> None:
        self.table = table
        self.key = key
        super().__init__(f"table {table!r}, key {key!r}: {problem}")


class StateSealer:
    """Seal and open table values under keys derived from an agency's ``enc`` keys."""

    def __init__(self, keys: KeyStore, agency: str = AGENCY) -> None:
        self.keys = keys
        self.key_id = keys.active(agency, "enc").key_id
        self._ciphers: dict[str, AESGCM] = {}

    def _cipher(self, key_id: str) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            secret = self.keys.decryption_key(key_id).private_bytes_raw()
            derived = HKDF(hashes.SHA256(), 32, salt=None, info=_STATE_INFO).derive(secret)
            cipher = self._ciphers[key_id] = AESGCM(derived)
        return cipher

    def seal(self, table: str, key: str, value: bytes) -> bytes:
        nonce = os.urandom(12)
        sealed = self._cipher(self.key_id).encrypt(nonce, value, _aad(table, key))
        return b"".join((STATE_PREFIX, self.key_id.encode(), b"\x00", nonce, sealed))

    def open(self, table: str, key: str, value: bytes) -> bytes:
        if not value.startswith(STATE_PREFIX):
            return value  # written by an unprotected worker: sealed when next written
        key_id, sep, rest = value[len(STATE_PREFIX):].partition(b"\x00")
        if not sep or len(rest) < 12:
            raise StateOpenError(table, key, "truncated sealed value")
        try:
            return self._cipher(key_id.decode()).decrypt(rest[:12], rest[12:], _aad(table, key))
        except InvalidTag:
            raise StateOpenError(table, key, "does not open (altered or moved)") from None
        except (ProtectionError, UnicodeDecodeError) as error:
            raise StateOpenError(table, key, f"key {key_id!r}: {error}") from None


def _aad(table: str, key: str) -> bytes:
    return f"{table}\x00{key}".encode()


class SealedTable:
    """A faust table whose values are sealed at rest; the workflows use it like the table
    (``get``, ``[]``, ``items``, ...) with plaintext bytes."""

    def __init__(self, table: Any, name: str, sealer: StateSealer) -> None:
        self.inner = table
        self.name = name
        self.sealer = sealer

    def _open(self, key: str, raw: bytes | None) -> bytes | None:
        return None if raw is None else self.sealer.open(self.name, key, raw)

    def get(self, key: str, default: Any = None) -> Any:
        found = self._open(key, self.inner.get(key))
        return default if found is None else found

    def __getitem__(self, key: str) -> bytes | None:
        return self._open(key, self.inner[key])

    def __setitem__(self, key: str, value: bytes | None) -> None:
        self.inner[key] = None if value is None else self.sealer.seal(self.name, key, value)

    def __delitem__(self, key: str) -> None:
        del self.inner[key]

    def __contains__(self, key: object) -> bool:
        return key in self.inner

    def __iter__(self) -> Iterator[str]:
        return iter(self.inner)

    def __len__(self) -> int:
        return len(self.inner)

    def keys(self) -> Iterator[str]:
        return iter(list(self.inner.keys()))

    def items(self) -> Iterator[tuple[str, bytes | None]]:
        for key, raw in list(self.inner.items()):
            yield key, self._open(key, raw)

    def values(self) -> Iterator[bytes | None]:
        for _, value in self.items():
            yield value

    def __getattr__(self, name: str) -> Any:  # faust's own API (on_recover, ...)
        return getattr(self.inner, name)


class _AppSink:
    """Audit records through the worker's producer (same at-least-once path as its outputs)."""

    def __init__(self, app: faust.App, topic: Any) -> None:
        self.app = app
        self.topic = topic

    async def write(self, key: bytes, value: bytes) -> None:
        await send(self.app, self.topic, key=key, value=value,
                   headers=[("content-type", CONTENT_TYPE)])


class WorkerProtection:
    """The protected mode's hooks for :mod:`exchange.workflows.runtime` (see the module docs)."""

    def __init__(
        self, protected: ProtectedCodec, keys: KeyStore, topology: Topology, *, audit: bool = True,
        audit_settings: AuditSettings | None = None, anchors: KafkaSettings | None = None,
    ) -> None:
        """``anchors``: how to read ``exchange.notary`` for the fail-closed guard (None: the
        guard sees no anchor, and only ``enabled = false`` keeps it open past the policy's
        limit; tests of other things)."""
        if protected.agency != AGENCY:
            raise ValueError(f"the worker acts as {AGENCY!r}, not {protected.agency!r}")
        self.protected = protected
        self.codec: EventCodec = protected.codec
        self.topology = topology
        self.encoder = ProtectedEncoder(protected, topology)
        self.sealer = StateSealer(keys)
        self.keys = keys
        self.audit_enabled = audit
        self.audit_settings = audit_settings or AuditSettings()
        self.anchors = anchors
        self.audit: AuditTrail | None = None
        self.guard: AuditGuard | None = None
        self._guard_checked = 0.0
        self._quarantine: Quarantine | None = None

    def attach(self, app: faust.App, context: WorkflowContext) -> None:
        """Create the quarantine and audit senders on ``app`` (before it starts)."""

        def raw(name: str) -> Any:
            return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw",
                             value_serializer="raw")

        if self.audit_enabled:
            self._attach_audit(app, context, raw(AUDIT_TOPIC))
        quarantine = raw(quarantine_topic(AGENCY))

        async def to_quarantine(topic: str, key: bytes | None, value: bytes | None,
                                headers: Headers) -> None:
            await send(app, quarantine, key=key, value=value, headers=headers)

        self._quarantine = Quarantine(
            self.protected, to_quarantine, context.metrics.bus, agency=AGENCY, group=app.conf.id,
            audit=self.audit,
        )

    def _attach_audit(self, app: faust.App, context: WorkflowContext, topic: Any) -> None:
        """The audit chain, its checkpoints (by the settings' rhythm and on a clean stop) and
        the fail-closed guard watching the notary's anchors."""
        settings = self.audit_settings
        registry = context.metrics.bus.registry
        guard = self.guard = AuditGuard(AGENCY, settings.fail_closed, EvidenceMetrics.on(registry))
        policy = CheckpointPolicy(settings.checkpoint_every_records,
                                  settings.checkpoint_every_seconds)
        trail = self.audit = AnchoredTrail(
            GuardedSink(_AppSink(app, topic), guard), AGENCY, self.keys, policy=policy
        )
        watchers: list[AnchorWatcher] = []  # made on the app's loop, when it starts

        async def sign_head() -> None:
            await trail.checkpoint_if_due()

        app.timer(interval=1.0, name="audit-checkpoint")(sign_head)

        async def watch_anchors() -> None:
            if self.anchors is None:
                return
            watcher = AnchorWatcher(self.anchors, guard, trail.chain,
                                    partitions=self.topology.topic(NOTARY_TOPIC).partitions)
            watchers.append(watcher)
            try:
                await watcher.start()
            except Exception as error:  # noqa: BLE001 - logged; the guard then closes
                log.critical("cannot watch %s for anchors (%s: %s): the worker will fail "
                             "closed after %.0f s", NOTARY_TOPIC, type(error).__name__, error,
                             settings.fail_closed.max_unanchored_seconds)

        app.task(watch_anchors)

        async def last_checkpoint(_sender: Any, /, *_args: Any, signal: Any, **_: Any) -> None:
            """A clean stop: every event handled; sign the head before the last flush."""
            try:
                await trail.close()
            finally:
                for watcher in watchers:
                    with contextlib.suppress(Exception):
                        await watcher.stop()

        app.on_before_shutdown.connect(last_checkpoint)

    async def _admitted(self) -> None:
        """Return when the fail-closed policy accepts new events; hold the caller until then."""
        guard = self.guard
        now = time.monotonic()
        if guard is None or now - self._guard_checked < GUARD_EVERY_S:
            return
        self._guard_checked = now
        found = guard.problem()
        if found is None:
            return
        guard.metrics.refused.labels(AGENCY).inc()
        log.error("fail closed: %s; holding new events until the audit trail is anchored", found[0])
        while found is not None:
            await asyncio.sleep(min(found[1], 1.0))
            found = guard.problem()
        log.warning("audit trail anchored again: taking new events")

    def table(self, name: str, table: Any) -> SealedTable:
        return SealedTable(table, name, self.sealer)

    async def open(self, record: Incoming) -> OpenedEvent | None:
        """The verified event as ``workflows`` may read it, or None when it was quarantined.
        Raises :class:`DecodeError` when it verifies but does not decode (dead-letter it)."""
        if self._quarantine is None:
            raise RuntimeError("WorkerProtection.attach(app, context) was not called")
        await self._admitted()
        return await self._quarantine.open(record)

    def peek(self, record: Incoming) -> DecodedEvent | None:
        """A record read again (a sighting looked back at for a new case), verified and opened
        as ``workflows``: None when it does not verify or decode. Nothing is quarantined,
        dead-lettered or audited: that was done when the record was first read."""
        try:
            return self.protected.decode(
                record.key, record.value, record.headers,
                (record.topic, record.partition, record.offset),
            ).decoded
        except (ProtectionError, DecodeError):
            return None

    async def delivered(self, opened: OpenedEvent, record: Incoming) -> None:
        if self.audit is not None:
            await self.audit.record(
                "delivered", opened.decoded.attributes, topic=record.topic,
                partition=record.partition, offset=record.offset,
                categories=opened.opened.categories,
            )

    async def routed(self, encoded: EncodedEvent, topic: str) -> None:
        """Audit an output as ``routed`` to ``topic``."""
        if self.audit is not None:
            await self.audit.record("routed", encoded.attributes, topic=topic, partition=-1,
                                    offset=-1)
