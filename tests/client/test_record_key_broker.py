"""EventConsumer (and so every sink) dead-letters a record keyed other than by its case key,
with reason ``key-mismatch`` naming the expected key, and goes on."""

from __future__ import annotations

import time
import uuid

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from prometheus_client import CollectorRegistry

from exchange.client.consumer import EventConsumer
from exchange.codec import DecodedEvent, EventCodec
from exchange.examples import example
from exchange.metrics import BusMetrics
from tests.client.test_dead_letter import TOPIC, read_dead_letters

pytestmark = pytest.mark.broker


async def test_null_and_wrong_keys_are_dead_lettered_and_the_consumer_goes_on(
    provisioned, codec: EventCodec
) -> None:
    topology = provisioned.topology
    sighting = example("transport-sighting")
    producer = AIOKafkaProducer(**provisioned.kafka_as("railway-police").aiokafka_kwargs())
    await producer.start()
    try:
        sent = {}
        # Signed by their sender over the key they carry: verified, then refused for the key.
        signer = provisioned.protection_for("railway-police").signer
        for label, key in (("null", None), ("wrong", b"S-NOT-THIS-ONE"), ("good", None)):
            encoded = codec.encode(sighting, source="/agencies/railway-police/test")
            used = encoded.key if label == "good" else key
            meta = await producer.send_and_wait(
                TOPIC, encoded.value, key=used,
                headers=[*encoded.headers, signer.header(used, encoded.value, encoded.headers)],
            )
            sent[label] = (meta.partition, meta.offset, encoded.attributes.id)
    finally:
        await producer.stop()

    handled: list[str] = []

    async def handle(decoded: DecodedEvent, record: ConsumerRecord) -> None:
        handled.append(decoded.attributes.id)

    metrics = BusMetrics.on(CollectorRegistry())
    deadletter = topology.deadletter_topic("police").name
    consumer = EventConsumer(
        provisioned.kafka_as("police"), codec, [TOPIC], agency="police",
        group_id=f"police.test.{uuid.uuid4().hex[:8]}", deadletter_topic=deadletter,
        metrics=metrics,
        protection=provisioned.protection_for("police"),
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 30
        while sent["good"][2] not in handled and time.monotonic() < deadline:
            await consumer.poll_once(handle, timeout_ms=300)
    finally:
        await consumer.stop()
    assert sent["good"][2] in handled, "the good event after the mis-keyed ones was not handled"
    assert sent["null"][2] not in handled
    assert sent["wrong"][2] not in handled

    where = {label: (partition, offset) for label, (partition, offset, _) in sent.items()}
    found, _ = await read_dead_letters(
        provisioned.broker.admin, deadletter, {where["null"], where["wrong"]}
    )
    for label, shown in (("null", "null"), ("wrong", "'S-NOT-THIS-ONE'")):
        headers = found[where[label]]
        assert headers["exchange.error.reason"] == "key-mismatch"
        message = headers["exchange.error.message"]
        assert f"record key is {shown}" in message
        assert f"sightingId = {sighting.sightingId!r}" in message
