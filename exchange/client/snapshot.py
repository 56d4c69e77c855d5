"""Read a topic from its beginning to its end as it is now: a snapshot of a compacted state topic
(the referral board) or of a period's events (yearly reports).

The end offsets are taken once, when reading starts; records published later are not waited
for. Records that cannot be decoded are counted and skipped (a reader of a snapshot cannot
refuse them to anyone; the workflows that write these topics dead-letter their own input).
With a :class:`~exchange.protection.protected.ProtectedCodec` (the ordinary reader), every
record is verified and opened first: one that fails verification (unsigned, forged, revoked
key, ...) is never used, and counted by its reason in :attr:`Snapshot.refused` (a snapshot is
read again and again: it does not quarantine, the consumers of the topic do).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from exchange.client.exceptions import SnapshotIncompleteError
from exchange.codec import DecodedEvent, EventCodec
from exchange.codec.exceptions import DecodeError
from exchange.protection.exceptions import VerificationError
from exchange.protection.protected import ProtectedCodec
from exchange.protection.unprotected import Unprotected
from exchange.settings import KafkaSettings
from exchange.tls.kafka import start_client

__all__ = ["Snapshot", "read_snapshot"]


@dataclass
class Snapshot:
    events: list[DecodedEvent] = field(default_factory=list)
    undecodable: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    """Records that failed verification, counted by reason (``unsigned``, ...)."""


async def read_snapshot(
    settings: KafkaSettings, codec: EventCodec, topic: str, *, partitions: int, agency: str,
    protection: ProtectedCodec | Unprotected, timeout_s: float = 30.0,
) -> Snapshot:
    """Every record of the ``partitions`` of ``topic`` (as the topology declares them) up to
    its current end, decoded, read as ``agency`` (whose consumer-group prefix the ACLs grant);
    commits nothing."""
    protected = protection if isinstance(protection, ProtectedCodec) else None
    if isinstance(protection, Unprotected):
        protection.warn(f"the snapshot reader of {topic!r}")
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
                    _read(snapshot, codec, protected, record)
            for tp in list(left):
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
        if left:
            missing = {tp.partition: ends[tp] - await consumer.position(tp) for tp in left}
            raise SnapshotIncompleteError(topic, timeout_s, missing)
    finally:
        await consumer.stop()
    return snapshot


def _read(
    snapshot: Snapshot, codec: EventCodec, protected: ProtectedCodec | None, record: Any
) -> None:
    """Add ``record``'s event to ``snapshot``, or count why it could not be used."""
    try:
        if protected is None:
            snapshot.events.append(codec.decode(record.value, record.headers))
        else:
            snapshot.events.append(protected.decode(
                record.key, record.value, record.headers,
                (record.topic, record.partition, record.offset),
            ).decoded)
    except DecodeError:
        snapshot.undecodable += 1
    except VerificationError as error:
        snapshot.refused[error.reason] = snapshot.refused.get(error.reason, 0) + 1

