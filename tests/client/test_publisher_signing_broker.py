"""The Publisher signs by default, and events published one at a time within its linger window
share one Merkle-tree signature; each still verifies alone, in order, on the real broker."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry

from exchange.client.publisher import Publisher, PublishResult
from exchange.codec import EventCodec
from exchange.examples.core import example_transport_sighting
from exchange.metrics import BusMetrics
from exchange.models.sightings import TransportSighting
from exchange.protection.signing import SIG_HEADER

pytestmark = pytest.mark.broker
TOPIC = "exchange.sighting"


def sightings(tag: str, count: int) -> list[TransportSighting]:
    base = example_transport_sighting()
    return [base.model_copy(update={"sightingId": f"S-{tag}-{n}"}) for n in range(count)]


async def records_at(provisioned, results: list[PublishResult]) -> list:
    consumer = AIOKafkaConsumer(
        **provisioned.kafka_as("police").aiokafka_kwargs(), group_id=None,
        enable_auto_commit=False,
    )
    await consumer.start()
    found = []
    try:
        for result in results:
            tp = TopicPartition(result.topic, result.partition)
            consumer.assign([tp])
            consumer.seek(tp, result.offset)
            found.append(await consumer.getone())
    finally:
        await consumer.stop()
    return found


def tree_size(record) -> int:
    """How many events share the record's signature (1: signed alone)."""
    parts = dict(record.headers)[SIG_HEADER].decode().split(":")
    return int(parts[2]) if len(parts) > 2 and parts[1] == "tree" else 1


async def test_events_published_one_at_a_time_share_a_signature(
    provisioned, codec: EventCodec
) -> None:
    tag = uuid.uuid4().hex[:8]
    events = sightings(tag, 20)
    async with Publisher(
        provisioned.kafka_as("transport"), codec, provisioned.topology, agency="transport",
        source="/agencies/transport/test", metrics=BusMetrics.on(CollectorRegistry()),
        protection=provisioned.protection_for("transport"), linger_ms=20,
    ) as publisher:
        together = await asyncio.gather(*(publisher.publish(e) for e in events))
        alone = await publisher.publish(sightings(f"{tag}-alone", 1)[0])
    records = await records_at(provisioned, [*together, alone])
    assert [tree_size(r) for r in records[:-1]] == [20] * 20  # one signature for all 20
    assert tree_size(records[-1]) == 1  # nothing else within its window: signed alone
    assert len({(r.partition, r.offset) for r in records[:-1]}) == 20
    for partition in {r.partition for r in records}:  # sent in the order they were published
        offsets = [r.offset for r in records if r.partition == partition]
        assert offsets == sorted(offsets)
    police = provisioned.protection_for("police")
    opened = [
        police.decode(r.key, r.value, r.headers, (r.topic, r.partition, r.offset))
        for r in reversed(records)  # each verifies alone, in any order
    ]
    assert {o.signer for o in opened} == {"transport"}
    assert [o.decoded.event.sightingId for o in reversed(opened)] == [
        e.sightingId for e in events
    ] + [f"S-{tag}-alone-0"]


async def test_a_publisher_without_protection_is_refused(provisioned, codec: EventCodec) -> None:
    """There is no unprotected default: protection=None is a programming error, said at once."""
    with pytest.raises(TypeError, match="Unprotected"):
        Publisher(
            provisioned.kafka_as("transport"), codec, provisioned.topology, agency="transport",
            source="/agencies/transport/test", metrics=BusMetrics.on(CollectorRegistry()),
            protection=None,  # type: ignore[arg-type]
        )
