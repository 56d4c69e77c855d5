"""Each of the five events round-trips through the real broker, owner to reader, as principals."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from prometheus_client import CollectorRegistry

from exchange.client.consumer import EventConsumer
from exchange.client.publisher import Publisher, choose_topic
from exchange.codec import DecodedEvent, EventCodec
from exchange.examples import example_json
from exchange.metrics import BusMetrics
from exchange.models.exceptions import validate_event
from exchange.models.registry import EVENTS
from exchange.protection.fields import put
from exchange.protection.protected import PROTECTED

pytestmark = pytest.mark.broker

# (event, owning agency that publishes it, one agency it is addressed to)
CASES = [
    ("missing-person-report", "police", "transport"),
    ("rescue", "police", "health"),
    ("referral", "police", "civil-affairs"),
    ("transport-sighting", "transport", "police"),
    ("intermediary-revocation", "market-regulation", "human-resources"),
]


async def read_at(kafka, result) -> ConsumerRecord:
    """The record the broker acknowledged as ``result``."""
    consumer = AIOKafkaConsumer(**kafka.aiokafka_kwargs(), group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(result.topic, result.partition)
        consumer.assign([tp])
        consumer.seek(tp, result.offset)
        return await consumer.getone()
    finally:
        await consumer.stop()


async def consume_until(
    consumer: EventConsumer, predicate: object, timeout_s: float = 30.0
) -> list[DecodedEvent]:
    got: list[DecodedEvent] = []

    async def handle(decoded: DecodedEvent, record: ConsumerRecord) -> None:
        got.append(decoded)

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not any(predicate(d) for d in got):  # type: ignore[operator]
        await consumer.poll_once(handle, timeout_ms=300)
    return got


@pytest.mark.parametrize(("name", "owner", "reader"), CASES)
async def test_event_round_trips_owner_to_reader(
    provisioned, codec: EventCodec, name: str, owner: str, reader: str
) -> None:
    spec = EVENTS[name]
    event = validate_event(spec.model, example_json(name))
    topology = provisioned.topology
    topic = choose_topic(topology, owner, event)
    assert reader in topology.topic(topic).readers
    metrics = BusMetrics.on(CollectorRegistry())
    consumer = EventConsumer(
        provisioned.kafka_as(reader), codec, [topic], agency=reader,
        group_id=f"{reader}.test.{uuid.uuid4().hex[:8]}",
        deadletter_topic=topology.deadletter_topic(reader).name, metrics=metrics,
        protection=provisioned.protection_for(reader),
    )
    await consumer.start()
    try:
        async with Publisher(
            provisioned.kafka_as(owner), codec, topology, agency=owner,
            source=f"/agencies/{owner}/test", metrics=metrics,
            protection=provisioned.protection_for(owner),
        ) as publisher:
            result = await publisher.publish(event)
        got = await consume_until(consumer, lambda d: d.attributes.id == result.event_id)
    finally:
        await consumer.stop()
    mine = [d for d in got if d.attributes.id == result.event_id]
    assert len(mine) == 1
    # The reader sees every value it is entitled to as sent, the others sealed.
    record = await read_at(provisioned.kafka_as(reader), result)
    opened = provisioned.protection_for(reader).decode(
        record.key, record.value, record.headers, (record.topic, record.partition, record.offset)
    )
    assert opened.signer == owner
    plain = codec.encode(event, source="/agencies/test")  # as the wire gives it back (UTC)
    expected = codec.decode(plain.value, plain.headers).event.model_dump(mode="json")
    for path in opened.protected:
        put(expected, path, PROTECTED)
    assert opened.view() == expected
    assert mine[0].event.model_dump(warnings=False) == opened.decoded.event.model_dump(
        warnings=False
    )  # what the consumer's handler was given
    if not opened.protected:
        assert mine[0].event == event
    assert mine[0].attributes.source == f"/agencies/{owner}/test"
    assert mine[0].attributes.subject == spec.key(event)
    assert result.key == spec.key(event)


async def test_referral_goes_to_the_addressees_inbox(provisioned) -> None:
    event = validate_event(EVENTS["referral"].model, example_json("referral"))
    topic = choose_topic(provisioned.topology, "police", event)
    assert provisioned.topology.topic(topic).addressed_to == event.toAgency.agencyId


async def test_publish_confirms_partition_by_case_key(provisioned, codec: EventCodec) -> None:
    """Events of one case keep their order: same key, same partition."""
    event = validate_event(EVENTS["transport-sighting"].model, example_json("transport-sighting"))
    async with Publisher(
        provisioned.kafka_as("transport"), codec, provisioned.topology, agency="transport",
        source="/agencies/transport/test", metrics=BusMetrics.on(CollectorRegistry()),
        protection=provisioned.protection_for("transport"),
    ) as publisher:
        results = await asyncio.gather(*(publisher.publish(event) for _ in range(5)))
    assert len({r.partition for r in results}) == 1
    offsets = [r.offset for r in results]
    assert offsets == sorted(offsets)


async def test_publish_many_sends_each_event_to_its_topic_in_order(
    provisioned, codec: EventCodec
) -> None:
    topology = provisioned.topology
    events = [
        validate_event(EVENTS[name].model, example_json(name))
        for name in ("missing-person-report", "rescue", "missing-person-report")
    ]
    ids = [f"many-{uuid.uuid4().hex[:8]}-{i}" for i in range(3)]
    async with Publisher(
        provisioned.kafka_as("police"), codec, topology, agency="police",
        source="/agencies/police/test", metrics=BusMetrics.on(CollectorRegistry()),
        protection=provisioned.protection_for("police"),
    ) as publisher:
        results = await publisher.publish_many(events, ids=ids)
        assert await publisher.publish_many([]) == []
    assert [r.event_id for r in results] == ids
    assert [r.topic for r in results] == [choose_topic(topology, "police", e) for e in events]
    assert results[0].topic != results[1].topic
    assert all(r.offset >= 0 for r in results)
