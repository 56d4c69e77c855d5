"""Benchmarks of issue #2, each against its baseline measured in the same run.

1. Codec: ``EventCodec.encode`` + ``decode`` (pydantic model -> single-object Avro + CloudEvents
   headers -> validated model) against bare fastavro ``schemaless_writer`` + ``schemaless_reader``
   of the same records as plain dicts. Target: codec >= 50% of bare fastavro.
2. Bus: ``Publisher`` (encode, ACL'd SCRAM connection, acks=all, idempotent) then
   ``EventConsumer`` (decode, validate, dead-letter guard, commit per batch) against raw aiokafka
   producing the same bytes and consuming them undecoded, on the same broker and topic layout.
   Target: bus >= 50% of raw aiokafka.

Usage (starts the local broker if it is not running)::

    python benchmarks/run.py [--records 20000] [--codec-records 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import platform
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from fastavro import schemaless_reader, schemaless_writer
from kafka.admin import KafkaAdminClient, NewTopic
from prometheus_client import CollectorRegistry

from exchange.broker.local import LocalCluster
from exchange.client.consumer import EventConsumer
from exchange.client.metrics import BusMetrics
from exchange.client.publisher import Publisher
from exchange.codec import DecodedEvent, EventCodec
from exchange.models.examples import example_json
from exchange.models.exceptions import validate_event
from exchange.models.registry import EVENTS
from exchange.schemas.catalogue import Catalogue
from exchange.settings import KafkaSettings
from exchange.topology.loader import load_topology

REPO = Path(__file__).resolve().parent.parent


def bench_codec(codec: EventCodec, catalogue: Catalogue, records: int) -> float:
    print(f"\n== Codec: encode+decode, {records} records per event type ==")
    print(f"{'event':<26}{'bare fastavro/s':>16}{'codec/s':>12}{'ratio':>8}")
    ratios = []
    for name, spec in EVENTS.items():
        event = validate_event(spec.model, example_json(name))
        parsed = catalogue.latest(spec.fullname).parsed
        plain = event.model_dump()

        started = time.perf_counter()
        for _ in range(records):
            buffer = io.BytesIO()
            schemaless_writer(buffer, parsed, plain)
            buffer.seek(0)
            schemaless_reader(buffer, parsed, parsed)
        bare = records / (time.perf_counter() - started)

        started = time.perf_counter()
        for _ in range(records):
            encoded = codec.encode(event, source="/bench")
            codec.decode(encoded.value, encoded.headers)
        ours = records / (time.perf_counter() - started)
        ratios.append(ours / bare)
        print(f"{name:<26}{bare:>16,.0f}{ours:>12,.0f}{ours / bare:>8.0%}")
    overall = sum(ratios) / len(ratios)
    print(f"{'mean ratio':<54}{overall:>8.0%}   (target >= 50%)")
    return overall


Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


async def _raw(settings: KafkaSettings, topic: str, values: list[Record]) -> float:
    producer = AIOKafkaProducer(
        **settings.aiokafka_kwargs(), acks="all", enable_idempotence=True, linger_ms=5
    )
    consumer = AIOKafkaConsumer(
        topic, **settings.aiokafka_kwargs(), group_id=f"bench.raw.{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False, auto_offset_reset="earliest",
    )
    await producer.start()
    await consumer.start()
    started = time.perf_counter()
    futures = [
        await producer.send(topic, value=value, key=key, headers=headers)
        for key, value, headers in values
    ]
    await asyncio.gather(*futures)
    seen = 0
    while seen < len(values):
        batch = await consumer.getmany(timeout_ms=1000, max_records=500)
        seen += sum(len(records) for records in batch.values())
        if batch:
            await consumer.commit()
    elapsed = time.perf_counter() - started
    await producer.stop()
    await consumer.stop()
    return len(values) / elapsed


async def _bus(settings: KafkaSettings, codec: EventCodec, topic: str, records: int) -> float:
    topology = load_topology()
    metrics = BusMetrics.on(CollectorRegistry())
    event = validate_event(EVENTS["transport-sighting"].model, example_json("transport-sighting"))
    consumer = EventConsumer(
        settings, codec, [topic], agency="bench", group_id=f"bench.bus.{uuid.uuid4().hex[:6]}",
        deadletter_topic=topic + ".dlq", metrics=metrics,
    )
    await consumer.start()
    seen = 0

    async def handle(decoded: DecodedEvent, record: ConsumerRecord) -> None:
        nonlocal seen
        seen += 1

    async with Publisher(
        settings, codec, topology, agency="bench", source="/bench", metrics=metrics
    ) as publisher:
        started = time.perf_counter()
        futures = [
            await publisher.send_encoded_nowait(topic, publisher.encode(event))
            for _ in range(records)
        ]
        await asyncio.gather(*futures)
        while seen < records:
            await consumer.poll_once(handle, timeout_ms=1000)
        elapsed = time.perf_counter() - started
    await consumer.stop()
    return records / elapsed


def bench_bus(codec: EventCodec, records: int) -> float:
    cluster = LocalCluster((REPO / ".state").resolve())
    cluster.up()
    admin = cluster.admin_settings()
    run = uuid.uuid4().hex[:6]
    raw_topic, bus_topic = f"bench.raw.{run}", f"bench.bus.{run}"
    client = KafkaAdminClient(**admin.kafka_python_kwargs())
    client.create_topics([NewTopic(t, 3, 1) for t in (raw_topic, bus_topic, bus_topic + ".dlq")])
    event = validate_event(EVENTS["transport-sighting"].model, example_json("transport-sighting"))
    values = []
    for _ in range(records):
        encoded = codec.encode(event, source="/bench")
        values.append((encoded.key, encoded.value, encoded.headers))
    print(f"\n== Bus: publish -> consume, {records} transport sightings "
          f"({len(values[0][1])} B each), 3 partitions, acks=all, SCRAM ==")
    try:
        raw = asyncio.run(_raw(admin, raw_topic, values))
        bus = asyncio.run(_bus(admin, codec, bus_topic, records))
    finally:
        client.delete_topics([raw_topic, bus_topic, bus_topic + ".dlq"])
        client.close()
    print(f"raw aiokafka: {raw:>10,.0f} events/s")
    print(f"exchange bus: {bus:>10,.0f} events/s   ratio {bus / raw:.0%}   (target >= 50%)")
    return bus / raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="events through the broker")
    parser.add_argument("--codec-records", type=int, default=20_000, help="events per codec run")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"python {platform.python_version()}")
    catalogue = Catalogue.load()
    codec = EventCodec(catalogue)
    bench_codec(codec, catalogue, args.codec_records)
    bench_bus(codec, args.records)


if __name__ == "__main__":
    main()
