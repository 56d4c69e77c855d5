"""The broker, not the client, enforces least privilege: non-readers and non-writers are denied."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry

from exchange.client.consumer import EventConsumer
from exchange.client.exceptions import BatchPublishError, NotAuthorizedError, PublishError
from exchange.client.publisher import Publisher
from exchange.codec import DecodedEvent, EventCodec
from exchange.examples import example_json
from exchange.metrics import BusMetrics
from exchange.models.exceptions import validate_event
from exchange.models.registry import EVENTS

pytestmark = pytest.mark.broker


async def ignore(decoded: DecodedEvent, record: ConsumerRecord) -> None:
    """A handler that does nothing."""


async def test_agency_that_is_not_a_reader_cannot_consume(provisioned, codec: EventCodec) -> None:
    topology = provisioned.topology
    assert "education" not in topology.topic("exchange.sighting").readers
    consumer = EventConsumer(
        provisioned.kafka_as("education"), codec, ["exchange.sighting"], agency="education",
        group_id=f"education.test.{uuid.uuid4().hex[:8]}",
        deadletter_topic=topology.deadletter_topic("education").name,
        metrics=BusMetrics.on(CollectorRegistry()),
        protection=provisioned.protection_for("education"),
    )
    async def denied_within_ten_seconds() -> None:
        await consumer.start()
        for _ in range(20):
            await consumer.poll_once(ignore, timeout_ms=500)

    with pytest.raises(NotAuthorizedError) as denied:
        await denied_within_ten_seconds()
    await consumer.stop()
    assert "TopicAuthorizationFailed" in type(denied.value.cause).__name__


async def test_agency_cannot_produce_to_a_topic_it_does_not_own(
    provisioned, codec: EventCodec
) -> None:
    topology = provisioned.topology
    sighting = validate_event(  # in education's own name: the broker's ACLs refuse it
        EVENTS["transport-sighting"].model,
        {**example_json("transport-sighting"), "reporter": {"agencyId": "education"}},
    )
    assert "education" not in topology.topic("exchange.sighting").writers
    metrics = BusMetrics.on(CollectorRegistry())
    async with Publisher(
        provisioned.kafka_as("education"), codec, topology, agency="education",
        source="/agencies/education/test", metrics=metrics,
        protection=provisioned.protection_for("education"),
    ) as publisher:
        with pytest.raises(PublishError) as refused:
            await publisher.publish(sighting, topic="exchange.sighting")
    assert "Authorization" in type(refused.value.cause).__name__
    errors = metrics.registry.get_sample_value(
        "exchange_publish_errors_total",
        {"topic": "exchange.sighting", "type": "exchange.events.TransportSighting",
         "agency": "education", "error": type(refused.value.cause).__name__},
    )
    assert errors == 1.0


async def test_a_refused_batch_reports_the_fate_of_every_event(
    provisioned, codec: EventCodec
) -> None:
    sighting = validate_event(  # in education's own name: the broker's ACLs refuse it
        EVENTS["transport-sighting"].model,
        {**example_json("transport-sighting"), "reporter": {"agencyId": "education"}},
    )
    async with Publisher(
        provisioned.kafka_as("education"), codec, provisioned.topology, agency="education",
        source="/agencies/education/test", metrics=BusMetrics.on(CollectorRegistry()),
        protection=provisioned.protection_for("education"),
    ) as publisher:
        with pytest.raises(BatchPublishError) as refused:
            await publisher.publish_many(
                [sighting, sighting], topic="exchange.sighting", ids=["b-1", "b-2"]
            )
        with pytest.raises(ValueError, match="1 ids for 2 events"):
            await publisher.publish_many([sighting, sighting], ids=["b-1"])
    assert refused.value.failed == 2
    assert [type(r) for r in refused.value.results] == [PublishError, PublishError]
    assert "2 of 2 events were not published" in str(refused.value)
