"""Fail closed on purpose: an agency stops accepting new events when its audit trail fails.

An exchange that cannot be proven afterwards should not happen. :class:`AuditGuard` watches one
publishing process's audit chain: its writes (through :class:`GuardedSink`), its checkpoints and
the notary's anchors that cover them (:class:`AnchorWatcher` reads ``exchange.notary``). Under
:class:`FailClosedPolicy` the publisher asks :meth:`AuditGuard.check` before each event and gets
:class:`~exchange.evidence.exceptions.AuditUnavailableError` while

- audit records have failed to be written for longer than ``max_unwritten_seconds``, or
- a checkpoint of the chain has waited longer than ``max_unanchored_seconds`` for a
  time-stamped anchor (TSA or notary down).

**Defaults and why.** ``max_unanchored_seconds`` = 4 h, X-Road's default for the same rule: a
TSA outage of a few hours must not stop a missing-child alert, yet records left unanchored for
longer lose their worth as evidence, and four hours is long enough for an operator to be paged
(the ``AuditCheckpointUnanchored`` alert fires at 1 h) and act. ``max_unwritten_seconds`` = 60 s: a
publisher that cannot write its audit trail no longer records who was told what; a minute
rides out a leader election, not an outage. ``enabled`` is true: secure by default; an
emergency override is a setting (``EXCHANGE_AUDIT__FAIL_CLOSED__ENABLED=false``), visible in
the metric ``exchange_audit_fail_closed`` staying 0 while the other gauges climb.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from exchange.evidence.anchors import ANCHOR_KIND
from exchange.evidence.exceptions import AuditUnavailableError
from exchange.evidence.metrics import EvidenceMetrics
from exchange.protection.audit import CHECKPOINT_KIND, AuditSink
from exchange.settings import FailClosedPolicy, KafkaSettings

NOTARY_TOPIC = "exchange.notary"


class AuditGuard:
    """The state of one process's audit chain, and the policy's verdict on it."""

    def __init__(
        self, agency: str, policy: FailClosedPolicy, metrics: EvidenceMetrics,
        *, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.agency = agency
        self.policy = policy
        self.metrics = metrics
        self.clock = clock
        self.failing_since: float | None = None
        self.pending: dict[int, float] = {}
        """seq of each checkpoint written -> when; removed once an anchor covers it."""

    def written(self) -> None:
        self.failing_since = None

    def write_failed(self) -> None:
        if self.failing_since is None:
            self.failing_since = self.clock()

    def checkpointed(self, seq: int) -> None:
        self.pending.setdefault(seq, self.clock())

    def anchored(self, seq: int) -> None:
        """An anchor holds a checkpoint at ``seq``: it and every earlier one are anchored."""
        for waiting in [s for s in self.pending if s <= seq]:
            del self.pending[waiting]

    def unanchored_seconds(self) -> float:
        return self.clock() - min(self.pending.values()) if self.pending else 0.0

    def unwritten_seconds(self) -> float:
        return 0.0 if self.failing_since is None else self.clock() - self.failing_since

    def problem(self) -> tuple[str, float] | None:
        """Why new events are refused now and how long until a retry makes sense, or None."""
        unwritten, unanchored = self.unwritten_seconds(), self.unanchored_seconds()
        self.metrics.unwritten.labels(self.agency).set(unwritten)
        self.metrics.unanchored.labels(self.agency).set(unanchored)
        found: tuple[str, float] | None = None
        if not self.policy.enabled:
            found = None
        elif unwritten > self.policy.max_unwritten_seconds:
            found = (f"audit records unwritten for {unwritten:.0f} s "
                     f"(limit {self.policy.max_unwritten_seconds:.0f} s)", 5.0)
        elif unanchored > self.policy.max_unanchored_seconds:
            found = (f"audit checkpoints not time-stamped for {unanchored:.0f} s "
                     f"(limit {self.policy.max_unanchored_seconds:.0f} s)", 30.0)
        self.metrics.fail_closed.labels(self.agency).set(1 if found else 0)
        return found

    def check(self) -> None:
        """Raise :class:`AuditUnavailableError` while the policy refuses new events."""
        found = self.problem()
        if found is not None:
            self.metrics.refused.labels(self.agency).inc()
            raise AuditUnavailableError(self.agency, *found)


class GuardedSink:
    """An :class:`~exchange.protection.audit.AuditSink` that tells the guard how writes go."""

    def __init__(self, sink: AuditSink, guard: AuditGuard) -> None:
        self.sink = sink
        self.guard = guard

    async def write(self, key: bytes, value: bytes) -> None:
        try:
            await self.sink.write(key, value)
        except BaseException:
            self.guard.write_failed()
            raise
        self.guard.written()
        if b"checkpoint" in value:  # cheap test first: most records are not checkpoints
            record = json.loads(value)
            if record.get("kind") == CHECKPOINT_KIND:
                self.guard.checkpointed(int(record["seq"]))


class AnchorWatcher:
    """Reads the notary's new anchors and marks this chain's checkpoints anchored."""

    def __init__(
        self, settings: KafkaSettings, guard: AuditGuard, chain: str, *,
        topic: str = NOTARY_TOPIC, partitions: int = 3,
    ) -> None:
        self.guard = guard
        self.chain = chain
        self.tps = [TopicPartition(topic, p) for p in range(partitions)]
        self._consumer = AIOKafkaConsumer(
            **settings.aiokafka_kwargs(), group_id=None, enable_auto_commit=False,
            isolation_level="read_committed",
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Begin at the topic's end (this chain is new), then watch in the background."""
        await self._consumer.start()
        self._consumer.assign(self.tps)
        await self._consumer.seek_to_end(*self.tps)
        for tp in self.tps:
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._watch(), name=f"anchors {self.chain}")

    async def _watch(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    self.take(record.value)

    def take(self, value: bytes | None) -> None:
        try:
            anchor = json.loads(value or b"")
        except ValueError:
            return
        if not isinstance(anchor, dict) or anchor.get("kind") != ANCHOR_KIND:
            return
        for checkpoint in anchor.get("checkpoints", []):
            if isinstance(checkpoint, dict) and checkpoint.get("chain") == self.chain:
                self.guard.anchored(int(checkpoint.get("seq", -1)))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()
