"""Read a topic from its beginning to its end as it is now: a snapshot of a compacted state topic
(the referral board) or of a period's events (yearly reports).

The end offsets are taken once, when reading starts; records published later are not waited
for. Records that cannot be decoded are counted and skipped (a reader of a snapshot cannot
refuse them to anyone; the workflows that write these topics dead-letter their own input).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from exchange.client.exceptions import SnapshotIncompleteError
from exchange.codec import DecodedEvent, EventCodec
from exchange.codec.exceptions import DecodeError
from exchange.settings import KafkaSettings
from exchange.tls.kafka import start_client

__all__ = ["Snapshot", "read_snapshot"]


@dataclass
class Snapshot:
    events: list[DecodedEvent] = field(default_factory=list)
    undecodable: int = 0


async def read_snapshot(
    settings: KafkaSettings, codec: EventCodec, topic: str, *, partitions: int, agency: str,
    timeout_s: float = 30.0,
) -> Snapshot:
    """Every record of the ``partitions`` of ``topic`` (as the topology declares them) up to
    its current end, decoded, read as ``agency`` (whose consumer-group prefix the ACLs grant);
    commits nothing."""
    consumer = AIOKafkaConsumer(
        **settings.aiokafka_kwargs(), group_id=f"{agency}.snapshot.{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False, auto_offset_reset="earliest",
    )
    await start_client(consumer, settings)
    snapshot = Snapshot()
    try:
        assigned = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        left = {tp for tp in assigned if ends[tp] > 0}
        deadline = time.monotonic() + timeout_s
        while left and time.monotonic() < deadline:
            batch = await consumer.getmany(*left, timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    try:
                        snapshot.events.append(codec.decode(record.value, record.headers))
                    except DecodeError:
                        snapshot.undecodable += 1
            for tp in list(left):
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
        if left:
            missing = {tp.partition: ends[tp] - await consumer.position(tp) for tp in left}
            raise SnapshotIncompleteError(topic, timeout_s, missing)
    finally:
        await consumer.stop()
    return snapshot

