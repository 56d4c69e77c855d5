"""Publisher.publish(topic=...) never puts a referral in the inbox of an agency it is not
addressed to (the person's name and ID number would leak there)."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry

from exchange.client.exceptions import AddresseeError
from exchange.client.publisher import Publisher
from exchange.codec import EventCodec
from exchange.examples import example
from exchange.metrics import BusMetrics
from exchange.models.common import AgencyRef

pytestmark = pytest.mark.broker

HEALTH = "exchange.referral.to.health"


async def end_offsets(provisioned, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(**provisioned.broker.admin.aiokafka_kwargs())
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p) for p in range(provisioned.topology.topic(topic).partitions)
        ]
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def test_a_referral_is_not_published_to_another_agencys_inbox(
    provisioned, codec: EventCodec
) -> None:
    referral = example("referral").model_copy(
        update={"toAgency": AgencyRef(agencyId="civil-affairs")}
    )
    before = await end_offsets(provisioned, HEALTH)
    async with Publisher(
        provisioned.kafka_as("police"), codec, provisioned.topology, agency="police",
        source="/agencies/police/test", metrics=BusMetrics.on(CollectorRegistry()),
        protection=provisioned.protection_for("police"),
    ) as publisher:
        with pytest.raises(AddresseeError) as caught:
            await publisher.publish(referral, topic=HEALTH)
        with pytest.raises(AddresseeError):
            await publisher.publish_many([referral], topic=HEALTH)
        sent = await publisher.publish(referral)  # no topic: the addressee's own inbox
    assert [e.field for e in caught.value.errors] == ["toAgency.agencyId"]
    assert sent.topic == "exchange.referral.to.civil-affairs"
    assert await end_offsets(provisioned, HEALTH) == before
