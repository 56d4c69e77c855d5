"""The audit of one publishing process: its anchored chain and its fail-closed guard, wired once.

Every entry point that publishes as an agency (``exchange publish``, the report deadlines, each
connector's source, the HTTP gateway) gets its publisher through
:func:`exchange.client.audited.audited_publisher`, which opens one :class:`PublishingAudit`:

- an idempotent audit producer (:func:`~exchange.protection.audit_kafka.audit_producer`) writing
  to ``exchange.audit`` through a :class:`~exchange.evidence.guard.GuardedSink`, so the guard
  learns of every failed write;
- the process's :class:`~exchange.evidence.checkpoints.AnchoredTrail` (one chain, its head signed
  by the agency's ``sig`` key by the settings' rhythm and once more on a clean stop);
- the :class:`~exchange.evidence.guard.AuditGuard` under the settings' fail-closed policy, and
  the :class:`~exchange.evidence.guard.AnchorWatcher` that marks the chain's checkpoints anchored
  when the notary's anchors name them;
- while audit records fail to be written, a retry every :data:`RETRY_EVERY_S` seconds that
  signs the head again (:func:`~exchange.evidence.checkpoints.retry_head`): the publisher the
  guard refuses writes nothing, so without it the guard would never learn that the audit path
  works again.

The faust worker has the same three parts on its own producer and timer
(:mod:`exchange.workflows.runtime.protection`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType

from prometheus_client import CollectorRegistry

from exchange.evidence.checkpoints import AnchoredTrail, CheckpointPolicy, retry_head
from exchange.evidence.guard import NOTARY_TOPIC, AnchorWatcher, AuditGuard, GuardedSink
from exchange.evidence.metrics import EvidenceMetrics
from exchange.protection.audit import AUDIT_TOPIC
from exchange.protection.audit_kafka import KafkaAuditSink, audit_producer
from exchange.protection.keys import KeyStore
from exchange.settings import AuditSettings, KafkaSettings
from exchange.tls.kafka import start_client

log = logging.getLogger(__name__)
RETRY_EVERY_S = 5.0
WATCH_START_S = 15.0
"""How long the anchor watcher may take to start (a principal that may not read the notary's
topic waits forever otherwise); past it, the guard sees no anchor and fails closed in time."""


class PublishingAudit:
    """One agency's audit chain and guard in one process. ``async with`` it around the
    publisher that uses :attr:`trail` and :attr:`guard`."""

    def __init__(
        self,
        settings: KafkaSettings,
        agency: str,
        keys: KeyStore,
        audit: AuditSettings,
        registry: CollectorRegistry,
        *,
        notary_partitions: int = 3,
        audit_topic: str = AUDIT_TOPIC,
        notary_topic: str = NOTARY_TOPIC,
    ) -> None:
        """Raises :class:`~exchange.protection.exceptions.KeyStoreError` when ``agency`` has no
        active signing key (its checkpoints could not be signed)."""
        keys.active(agency, "sig")  # before any client is made
        self.settings = settings
        self.agency = agency
        self.guard = AuditGuard(agency, audit.fail_closed, EvidenceMetrics.on(registry))
        self._producer = audit_producer(settings)
        self.trail = AnchoredTrail(
            GuardedSink(KafkaAuditSink(self._producer, audit_topic), self.guard), agency, keys,
            policy=CheckpointPolicy(audit.checkpoint_every_records, audit.checkpoint_every_seconds),
        )
        self._notary = (notary_topic, notary_partitions)
        self._watcher: AnchorWatcher | None = None
        self._retrying: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PublishingAudit:
        """Connect (the Kafka client's errors are raised; nothing is left open then)."""
        try:
            await start_client(self._producer, self.settings)
        except BaseException:
            await self._producer.stop()
            raise
        topic, partitions = self._notary
        watcher = AnchorWatcher(self.settings, self.guard, self.trail.chain, topic=topic,
                                partitions=partitions)
        try:
            await asyncio.wait_for(watcher.start(), WATCH_START_S)
            self._watcher = watcher
        except Exception as error:  # noqa: BLE001 - logged; the guard then closes in time
            with contextlib.suppress(Exception):
                await watcher.stop()
            log.critical(
                "%s cannot watch %s for anchors (%s: %s): it fails closed after %.0f s",
                self.agency, NOTARY_TOPIC, type(error).__name__, error,
                self.guard.policy.max_unanchored_seconds,
            )
        self.trail.start()
        self._retrying = asyncio.create_task(self._retry(), name=f"audit retry {self.agency}")
        return self

    async def _retry(self) -> None:
        while True:
            await asyncio.sleep(RETRY_EVERY_S)
            if self.guard.failing_since is not None:
                await retry_head(self.trail)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Sign the head once more (a clean stop), then close the watcher and the producer."""
        if self._retrying is not None:
            self._retrying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retrying
        try:
            await self.trail.close()
        except Exception:
            if exc is None:
                raise
            log.exception("%s: the last checkpoint of %s was not written", self.agency,
                          self.trail.chain)
        finally:
            if self._watcher is not None:
                with contextlib.suppress(Exception):
                    await self._watcher.stop()
            await self._producer.stop()
