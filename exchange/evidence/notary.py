"""The notary: the joint-meeting office's long-running process that time-stamps every chain.

It reads ``exchange.audit`` (as ``joint-meeting-office``, no consumer group: it starts from the
beginning and skips what ``exchange.notary`` already holds), checks each checkpoint's signature
with the agencies' public keys, and every ``interval_s`` seconds puts the new ones into an
anchor (:mod:`.anchors`): a Merkle tree, an RFC 3161 token for its root from the TSA, one record
on ``exchange.notary`` (idempotent producer, ``acks=all``). When the TSA fails, the checkpoints
wait and the next round tries again; ``exchange_audit_unanchored_seconds{agency="notary"}``
grows meanwhile, and the publishers' fail-closed guards (:mod:`.guard`) see no anchor either.

:class:`NotaryCore` holds the pure part (what is pending, what an anchor holds); :func:`run`
does the Kafka and HTTP I/O.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from exchange.evidence.anchors import ANCHOR_KIND, encode_anchor, make_anchor, merkle_root
from exchange.evidence.checkpoints import checkpoint_problem
from exchange.evidence.exceptions import TimeStampError
from exchange.evidence.guard import NOTARY_TOPIC
from exchange.evidence.metrics import EvidenceMetrics
from exchange.evidence.tsa import TsaClient
from exchange.protection.audit import AUDIT_TOPIC, CHECKPOINT_KIND
from exchange.protection.keys import KeyStore
from exchange.settings import KafkaSettings

log = logging.getLogger(__name__)
MAX_PER_ANCHOR = 1000  # ~0.4 MB of checkpoints: one anchor stays below Kafka's 1 MB default


@dataclass
class NotaryCore:
    keys: KeyStore
    metrics: EvidenceMetrics
    pending: list[dict[str, Any]] = field(default_factory=list)
    anchored: set[str] = field(default_factory=set)
    """Signatures of the checkpoints already in an anchor."""
    since: float | None = None

    def take_anchor(self, anchor: dict[str, Any]) -> None:
        for checkpoint in anchor.get("checkpoints", []):
            self.anchored.add(str(checkpoint.get("signature")))

    def take_audit(self, record: dict[str, Any]) -> None:
        if record.get("kind") != CHECKPOINT_KIND:
            return
        signature = str(record.get("signature"))
        if signature in self.anchored or any(p["signature"] == signature for p in self.pending):
            return
        problem = checkpoint_problem(self.keys, record)
        if problem is not None:
            self.metrics.rejected.inc()
            log.warning("refused a checkpoint of %s: %s", record.get("chain"), problem)
            return
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append(record)
        self.metrics.pending.set(len(self.pending))

    def batch(self) -> list[dict[str, Any]]:
        return self.pending[:MAX_PER_ANCHOR]

    def done(self, anchor: dict[str, Any]) -> None:
        self.take_anchor(anchor)
        self.pending = [p for p in self.pending if p["signature"] not in self.anchored]
        self.since = time.monotonic() if self.pending else None
        self.metrics.pending.set(len(self.pending))
        self.metrics.anchors.inc()

    def unanchored_seconds(self) -> float:
        return 0.0 if self.since is None else time.monotonic() - self.since


@dataclass(frozen=True)
class NotaryConfig:
    interval_s: float = 60.0
    audit_topic: str = AUDIT_TOPIC
    audit_partitions: int = 3
    notary_topic: str = NOTARY_TOPIC
    notary_partitions: int = 3


async def _read_all(consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> list[bytes]:
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    ends = await consumer.end_offsets(tps)
    values: list[bytes] = []
    while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
        for records in (await consumer.getmany(timeout_ms=500)).values():
            values.extend(r.value or b"" for r in records)
    return values


def _json(value: bytes) -> dict[str, Any]:
    try:
        found = json.loads(value)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


async def anchor_once(
    core: NotaryCore, tsa: TsaClient, producer: AIOKafkaProducer, topic: str
) -> dict[str, Any] | None:
    """Anchor the pending checkpoints (None: nothing pending, or the TSA failed)."""
    checkpoints = core.batch()
    if not checkpoints:
        return None
    try:
        stamp = await tsa.stamp(merkle_root(checkpoints))
    except TimeStampError as error:
        core.metrics.tsa_failures.inc()
        log.warning("no time-stamp for %d checkpoint(s): %s", len(checkpoints), error)
        return None
    anchor = make_anchor(checkpoints, stamp)
    await producer.send_and_wait(topic, encode_anchor(anchor), key=b"anchor",
                                 headers=[("content-type", b"application/json")])
    core.done(anchor)
    return anchor


async def run(
    settings: KafkaSettings, core: NotaryCore, tsa: TsaClient, config: NotaryConfig,
    stop: asyncio.Event,
) -> None:
    """Run until ``stop`` is set; a last round anchors what is pending (clean shutdown)."""
    gauge = core.metrics.unanchored.labels("notary")
    notary = AIOKafkaConsumer(**settings.aiokafka_kwargs(), group_id=None,
                              enable_auto_commit=False, isolation_level="read_committed")
    audit = AIOKafkaConsumer(**settings.aiokafka_kwargs(), group_id=None,
                             enable_auto_commit=False, isolation_level="read_committed")
    producer = AIOKafkaProducer(**settings.aiokafka_kwargs(), acks="all",
                                enable_idempotence=True)
    await notary.start()
    try:
        for value in await _read_all(notary, [
            TopicPartition(config.notary_topic, p) for p in range(config.notary_partitions)
        ]):
            if (anchor := _json(value)).get("kind") == ANCHOR_KIND:
                core.take_anchor(anchor)
    finally:
        await notary.stop()
    await audit.start()
    await producer.start()
    try:
        tps = [TopicPartition(config.audit_topic, p) for p in range(config.audit_partitions)]
        audit.assign(tps)
        await audit.seek_to_beginning(*tps)
        next_round = time.monotonic() + config.interval_s
        while not stop.is_set():
            for records in (await audit.getmany(timeout_ms=200)).values():
                for record in records:
                    core.take_audit(_json(record.value or b""))
            gauge.set(core.unanchored_seconds())
            if time.monotonic() >= next_round:
                await anchor_once(core, tsa, producer, config.notary_topic)
                next_round = time.monotonic() + config.interval_s
        for records in (await audit.getmany(timeout_ms=200)).values():
            for record in records:
                core.take_audit(_json(record.value or b""))
        await anchor_once(core, tsa, producer, config.notary_topic)
    finally:
        await producer.stop()
        await audit.stop()
