"""Dead letters for the operator: list, show, and replay them to where they came from.

A dead letter is the original record (key, value and headers unchanged) plus headers naming
the error (``exchange.error.*``), where it came from (``exchange.original.*``) and the group
that gave up on it. Replaying sends the original key, value and headers back to the original
topic, unchanged (same ``ce_id``, so receivers that handled it already drop the copy), with
``exchange.replay.*`` headers saying it was replayed, by whom, when and from which dead letter;
each replay is appended to the audit trail. Never replayed: anything from a quarantine topic,
and any record whose error is a verification failure (a forged, tampered, unsigned or replayed
event), whatever topic it sits in.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from exchange.codec import CloudEventAttributes
from exchange.errors import ExchangeError
from exchange.protection.audit import AuditTrail
from exchange.settings import KafkaSettings
from exchange.topology.model import Topology, deadletter_name

__all__ = [
    "DeadLetterRecord", "Filter", "ReplayRefusedError", "read_dead_letters", "replay",
    "replay_headers",
]

ADDED_PREFIXES = ("exchange.error.", "exchange.original.", "exchange.consumer.")
VERIFICATION_REASONS = frozenset({
    "unsigned", "bad-signature", "unknown-key", "revoked-key", "wrong-agency", "not-a-writer",
    "replayed", "bad-envelope",
})  # fmt: skip


class ReplayRefusedError(ExchangeError):
    """A dead letter that must not be replayed; ``.rule`` says why."""

    def __init__(self, where: str, rule: str, message: str) -> None:
        self.where, self.rule = where, rule
        super().__init__(f"{where}: {message} [{rule}]")


@dataclass(frozen=True)
class DeadLetterRecord:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @property
    def where(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"

    def header(self, name: str) -> str:
        for key, value in reversed(self.headers):
            if key == name:
                return value.decode(errors="replace")
        return ""

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    @property
    def reason(self) -> str:
        return self.header("exchange.error.reason")

    @property
    def original_topic(self) -> str:
        return self.header("exchange.original.topic")

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.headers if not k.startswith(ADDED_PREFIXES)]

    def summary(self) -> dict[str, Any]:
        return {
            "dead_letter": self.where, "at": self.at.isoformat(), "reason": self.reason,
            "error": self.header("exchange.error.class"),
            "message": self.header("exchange.error.message"),
            "original": f"{self.original_topic}:{self.header('exchange.original.partition')}:"
                        f"{self.header('exchange.original.offset')}",
            "group": self.header("exchange.consumer.group"),
            "ce_type": self.header("ce_type"), "ce_id": self.header("ce_id"),
            "ce_source": self.header("ce_source"),
            "value_bytes": len(self.value or b""),
        }  # fmt: skip


@dataclass(frozen=True)
class Filter:
    reason: str | None = None
    original_topic: str | None = None
    since: datetime | None = None

    def __call__(self, record: DeadLetterRecord) -> bool:
        return (
            (self.reason is None or record.reason == self.reason)
            and (self.original_topic is None or record.original_topic == self.original_topic)
            and (self.since is None or record.at >= self.since)
        )


def read_dead_letters(
    settings: KafkaSettings, topics: Iterable[str], keep: Filter = Filter(),
    *, offsets: dict[tuple[str, int], int] | None = None,
) -> Iterator[DeadLetterRecord]:
    """Every record of ``topics`` up to their current end (no consumer group, nothing
    committed); with ``offsets``, only the record at each (topic, partition) offset."""
    consumer = KafkaConsumer(enable_auto_commit=False, consumer_timeout_ms=5000,
                             **settings.kafka_python_kwargs())  # fmt: skip
    try:
        partitions = [
            TopicPartition(topic, p) for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if offsets is not None:
            partitions = [tp for tp in partitions if (tp.topic, tp.partition) in offsets]
        if not partitions:
            return
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        for tp in partitions:
            if offsets is None:
                consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, offsets[(tp.topic, tp.partition)])
                ends[tp] = min(ends[tp], offsets[(tp.topic, tp.partition)] + 1)
        yield from (r for r in _drain(consumer, ends) if keep(r)
                    and (offsets is None or offsets.get((r.topic, r.partition)) == r.offset))
    finally:
        consumer.close()


def _drain(consumer: Any, ends: dict[Any, int]) -> Iterator[DeadLetterRecord]:
    """The assigned partitions' records up to ``ends``."""
    remaining = {tp for tp, end in ends.items() if consumer.position(tp) < end}
    while remaining:
        batch = consumer.poll(timeout_ms=2000)
        if not batch:
            return
        for tp, records in batch.items():
            for r in records:
                if r.offset >= ends[tp]:
                    break
                yield DeadLetterRecord(
                    r.topic, r.partition, r.offset, r.timestamp, r.key, r.value,
                    tuple((k, bytes(v or b"")) for k, v in r.headers or ()),
                )
            if consumer.position(tp) >= ends[tp] or (records and records[-1].offset >= ends[tp]):
                remaining.discard(tp)


def check_replayable(record: DeadLetterRecord, topology: Topology) -> None:
    """Refuse a record that must not go back: quarantined, failed verification, or naming an
    origin its dead-letter topic cannot have. An agency writes its own dead-letter topic, so its
    headers are the agency's word: a consumer of agency X only dead-letters records of a topic X
    reads, and a replay (as the operator, past every ACL) goes nowhere else."""
    if record.topic.startswith("exchange.quarantine."):
        raise ReplayRefusedError(
            record.where, "quarantined", "a quarantined record failed verification: never replayed"
        )
    if record.reason in VERIFICATION_REASONS:
        raise ReplayRefusedError(
            record.where, "verification-failed",
            f"its error is a verification failure ({record.reason})",
        )
    if not record.original_topic:
        raise ReplayRefusedError(
            record.where, "no-origin", "it names no original topic (exchange.original.topic)"
        )
    owner = next((a.id for a in topology.agencies
                  if deadletter_name(a.id) == record.topic), None)  # fmt: skip
    if owner is None:
        raise ReplayRefusedError(
            record.where, "not-a-dead-letter", f"{record.topic} is no agency's dead-letter topic"
        )
    if record.original_topic not in {t.name for t in topology.topics_readable_by(owner)}:
        raise ReplayRefusedError(
            record.where, "foreign-origin",
            f"it names {record.original_topic!r} as its origin, a topic {owner} does not read: "
            f"{owner}'s consumers cannot have dead-lettered it (forged or corrupted headers)",
        )


def replay_headers(record: DeadLetterRecord, by: str, at: datetime) -> list[tuple[str, bytes]]:
    added = [
        ("exchange.replay.by", by), ("exchange.replay.at", at.isoformat()),
        ("exchange.replay.from", record.where), ("exchange.replay.reason", record.reason),
    ]
    return [*record.original_headers, *((k, v.encode()) for k, v in added)]


class _SyncAuditSink:
    """The audit trail's sink over kafka-python's producer (this command is synchronous)."""

    def __init__(self, producer: KafkaProducer, topic: str) -> None:
        self.producer, self.topic = producer, topic

    async def write(self, key: bytes, value: bytes) -> None:
        self.producer.send(self.topic, key=key, value=value,
                           headers=[("content-type", b"application/json")]).get(30)  # fmt: skip


def replay(
    settings: KafkaSettings, records: Iterable[DeadLetterRecord], *, by: str,
    topology: Topology, audit_topic: str = "exchange.audit",
) -> list[dict[str, Any]]:
    """Replay each record (all checked first: one refusal replays nothing)."""
    chosen = list(records)
    for record in chosen:
        check_replayable(record, topology)
    producer = KafkaProducer(acks="all", **settings.kafka_python_kwargs())
    trail = AuditTrail(_SyncAuditSink(producer, audit_topic), "operations")
    done = []
    try:
        for record in chosen:
            at = datetime.now(UTC)
            sent = producer.send(record.original_topic, key=record.key, value=record.value,
                                 headers=replay_headers(record, by, at)).get(30)  # fmt: skip
            attributes = CloudEventAttributes(
                record.header("ce_id"), record.header("ce_source"), record.header("ce_type"), at,
                record.header("ce_subject"), record.header("ce_dataschema"),
                record.header("content-type"), record.header("ce_specversion"),
            )
            asyncio.run(trail.record(
                "replayed", attributes, topic=sent.topic, partition=sent.partition,
                offset=sent.offset, detail=json.dumps({"from": record.where, "by": by}),
            ))
            done.append({"from": record.where, "to": f"{sent.topic}:{sent.partition}:"
                         f"{sent.offset}", "ce_id": record.header("ce_id")})  # fmt: skip
    finally:
        producer.close()
    return done
