"""The audit trail's Kafka I/O: a sink for :class:`~exchange.protection.audit.AuditTrail` and a
reader of the whole ``exchange.audit`` topic (no consumer group: nothing is committed)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from exchange.protection.audit import AUDIT_TOPIC, CONTENT_TYPE, AuditEntry, parse_entry
from exchange.settings import KafkaSettings
from exchange.tls.kafka import start_client


def audit_producer(settings: KafkaSettings) -> AIOKafkaProducer:
    """The producer audit records need: idempotent with ``acks=all``, so a send retried after a
    lost acknowledgement is written once (a duplicate would look like a fork of the chain) and
    a record is acknowledged only once the in-sync replicas have it."""
    return AIOKafkaProducer(**settings.aiokafka_kwargs(), acks="all", enable_idempotence=True)


class KafkaAuditSink:
    """Writes audit records with an idempotent producer (:func:`audit_producer`; order kept per
    chain)."""

    def __init__(self, producer: AIOKafkaProducer, topic: str = AUDIT_TOPIC) -> None:
        self.producer = producer
        self.topic = topic

    async def write(self, key: bytes, value: bytes) -> None:
        await self.producer.send_and_wait(
            self.topic, value=value, key=key, headers=[("content-type", CONTENT_TYPE)]
        )


async def read_audit(
    settings: KafkaSettings, partitions: int, topic: str = AUDIT_TOPIC, timeout_s: float = 30.0
) -> list[AuditEntry]:
    """Every record of the audit topic (``partitions`` as declared in the topology),
    partition by partition, in offset order."""
    consumer = AIOKafkaConsumer(
        **settings.aiokafka_kwargs(),
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await start_client(consumer, settings)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        entries: list[AuditEntry] = []
        async with asyncio.timeout(timeout_s):
            while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    entries.extend(parse_entry(r.value, r.partition, r.offset) for r in records)
    finally:
        await consumer.stop()
    entries.sort(key=lambda e: (e.partition, e.offset))
    return entries
