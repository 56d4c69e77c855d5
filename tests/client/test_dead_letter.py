"""Bad records are dead-lettered with their reason and origin; the consumer keeps going."""

from __future__ import annotations

import io
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from fastavro import schemaless_writer
from prometheus_client import CollectorRegistry

from exchange.client.consumer import EventConsumer
from exchange.client.publisher import Publisher
from exchange.codec import SINGLE_OBJECT_MARKER, DecodedEvent, EventCodec
from exchange.examples import example_json
from exchange.metrics import BusMetrics
from exchange.models.exceptions import validate_event
from exchange.models.registry import EVENTS
from exchange.schemas.catalogue import Catalogue
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.broker

TOPIC = "exchange.sighting"


def _invalid_but_decodable(codec: EventCodec) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A well-formed Avro record that breaks the contract (a GB/T 2260 code that is no region)."""
    event = validate_event(EVENTS["transport-sighting"].model, example_json("transport-sighting"))
    encoded = codec.encode(event, source="/agencies/transport/test")
    data = event.model_dump()
    data["location"]["lat"] = 123.0  # outside WGS84's [-90, 90]
    latest = Catalogue.load().latest("exchange.events.TransportSighting")
    body = io.BytesIO()
    schemaless_writer(body, latest.parsed, data)
    return SINGLE_OBJECT_MARKER + latest.fingerprint + body.getvalue(), encoded.headers


async def read_dead_letters(
    admin: KafkaSettings, topic: str, wanted: set[tuple[int, int]]
) -> tuple[dict[tuple[int, int], dict[str, str]], dict[tuple[int, int], bytes]]:
    """Headers and values of dead letters from ``TOPIC``, by original (partition, offset)."""
    dlq = AIOKafkaConsumer(
        topic, **admin.aiokafka_kwargs(),
        group_id=f"operators.test.{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest",
    )
    await dlq.start()
    found: dict[tuple[int, int], dict[str, str]] = {}
    values: dict[tuple[int, int], bytes] = {}
    try:
        deadline = time.monotonic() + 30
        while not wanted <= set(found) and time.monotonic() < deadline:
            batch = await dlq.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    # errors="replace": other tests' records may carry binary headers
                    # (exchange.sealed version 2), kept as they were in the dead letter
                    headers = {k: v.decode(errors="replace") for k, v in record.headers}
                    if headers.get("exchange.original.topic") != TOPIC:
                        continue
                    origin = (int(headers["exchange.original.partition"]),
                              int(headers["exchange.original.offset"]))
                    found[origin] = headers
                    values[origin] = record.value
    finally:
        await dlq.stop()
    return found, values


async def test_poison_records_are_dead_lettered_and_the_consumer_goes_on(
    provisioned, codec: EventCodec
) -> None:
    topology = provisioned.topology
    transport = provisioned.kafka_as("transport")
    raw = AIOKafkaProducer(**transport.aiokafka_kwargs())
    await raw.start()
    marker = uuid.uuid4().hex
    invalid_value, invalid_headers = _invalid_but_decodable(codec)
    signer = provisioned.protection_for("transport").signer

    def signed(key: bytes, value: bytes, headers: list | None = None) -> list:
        """Poison signed by its (real) sender: verified, then refused by the decoder, so it is
        dead-lettered (unsigned poison is quarantined before any decoding)."""
        headers = headers or [("ce_source", b"/agencies/transport/test"),
                              ("ce_id", uuid.uuid4().hex.encode())]
        return [*headers, signer.header(key, value, headers)]

    try:
        value = b"garbage " + marker.encode()
        garbage = await raw.send_and_wait(TOPIC, value, key=b"g", headers=signed(b"g", value))
        value = b"\xc3\x02" + b"\x00" * 12
        wrong_marker = await raw.send_and_wait(
            TOPIC, value, key=b"m", headers=signed(b"m", value)
        )
        invalid = await raw.send_and_wait(
            TOPIC, invalid_value, key=b"i",
            headers=signed(b"i", invalid_value, list(invalid_headers)),
        )
    finally:
        await raw.stop()
    good_event = validate_event(
        EVENTS["transport-sighting"].model, example_json("transport-sighting")
    )
    metrics = BusMetrics.on(CollectorRegistry())
    async with Publisher(
        transport, codec, topology, agency="transport", source="/agencies/transport/test",
        metrics=metrics,
        protection=provisioned.protection_for("transport"),
    ) as publisher:
        good = await publisher.publish(good_event)

    handled: list[str] = []

    async def handle(decoded: DecodedEvent, record: ConsumerRecord) -> None:
        handled.append(decoded.attributes.id)

    consumer = EventConsumer(
        provisioned.kafka_as("police"), codec, [TOPIC], agency="police",
        group_id=f"police.test.{uuid.uuid4().hex[:8]}",
        deadletter_topic=topology.deadletter_topic("police").name, metrics=metrics,
        protection=provisioned.protection_for("police"),
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 30
        while good.event_id not in handled and time.monotonic() < deadline:
            await consumer.poll_once(handle, timeout_ms=300)
    finally:
        await consumer.stop()
    assert good.event_id in handled, "the good event after the poison records was not processed"

    # Every poison record is in police's dead-letter topic, unchanged, with reason and origin.
    where = {name: (meta.partition, meta.offset) for name, meta in
             (("garbage", garbage), ("marker", wrong_marker), ("invalid", invalid))}
    found, values = await read_dead_letters(
        provisioned.broker.admin, topology.deadletter_topic("police").name, set(where.values())
    )
    assert found[where["garbage"]]["exchange.error.reason"] == "not-single-object"
    assert values[where["garbage"]] == b"garbage " + marker.encode()
    assert found[where["marker"]]["exchange.error.reason"] == "not-single-object"
    assert found[where["invalid"]]["exchange.error.reason"] == "invalid-event"
    assert "lat" in found[where["invalid"]]["exchange.error.message"]
    assert found[where["invalid"]]["exchange.consumer.group"].startswith("police.test.")
    assert metrics.registry.get_sample_value(
        "exchange_events_dead_lettered_total",
        {"topic": TOPIC, "reason": "not-single-object", "agency": "police"},
    ) >= 2


async def test_handler_failure_is_dead_lettered_not_dropped(
    provisioned, codec: EventCodec
) -> None:
    topology = provisioned.topology
    metrics = BusMetrics.on(CollectorRegistry())
    event = validate_event(EVENTS["transport-sighting"].model, example_json("transport-sighting"))
    async with Publisher(
        provisioned.kafka_as("transport"), codec, topology, agency="transport",
        source="/agencies/transport/test", metrics=metrics,
        protection=provisioned.protection_for("transport"),
    ) as publisher:
        sent = await publisher.publish(event)

    async def explode(decoded: DecodedEvent, record: ConsumerRecord) -> None:
        if decoded.attributes.id == sent.event_id:
            raise RuntimeError("workflow bug")

    consumer = EventConsumer(
        provisioned.kafka_as("police"), codec, [TOPIC], agency="police",
        group_id=f"police.test.{uuid.uuid4().hex[:8]}",
        deadletter_topic=topology.deadletter_topic("police").name, metrics=metrics,
        protection=provisioned.protection_for("police"),
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not metrics.registry.get_sample_value(
            "exchange_events_dead_lettered_total",
            {"topic": TOPIC, "reason": "handler-error", "agency": "police"},
        ):
            await consumer.poll_once(explode, timeout_ms=300)
    finally:
        await consumer.stop()
    assert metrics.registry.get_sample_value(
        "exchange_events_dead_lettered_total",
        {"topic": TOPIC, "reason": "handler-error", "agency": "police"},
    ) == 1.0
