"""What protection does, shown in the demo's guard rails: what an agency not entitled to a
field sees of it, and forged, tampered and unsigned records quarantined with their reasons.

Only paths, categories, positions and reasons are printed, never a value of a sealed field.
"""

from __future__ import annotations

import time

from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from exchange.client.consumer import EventConsumer, Handler
from exchange.demo.act import KafkaAs
from exchange.demo.keys import DemoKeys, read_at

SIGHTINGS = "exchange.sighting"


async def show_sealed(keys: DemoKeys, kafka_as: KafkaAs, position: tuple[str, int, int]) -> None:
    """Every reader of the missing child's report opens it with its own keys: each sees the
    fields it is entitled to, the others stay sealed."""
    topic, partition, offset = position
    topology = keys.topology
    readers = [r for r in topology.topic(topic).readers if topology.agency(r).kind == "agency"]
    print(f"\n[{', '.join(readers)}] each open the missing child's report "
          f"({topic}[{partition}]@{offset}) with their own keys")
    record = await read_at(kafka_as(topology.principal_of(readers[0])), *position)
    for reader in readers:
        opened = keys.codec_for(reader).decode(record.key, record.value, record.headers, position)
        categories = ", ".join(sorted(opened.opened.categories)) or "none"
        if opened.protected:
            print(f"  {reader}: opens {categories}; sees <protected> at "
                  f"{', '.join(opened.protected)} (it is not entitled to them)")
        else:
            print(f"  {reader}: opens every field ({categories})")


async def show_quarantine(
    keys: DemoKeys, kafka_as: KafkaAs, police: EventConsumer, handler: Handler,
    sighting: BaseModel,
) -> None:
    """Transport's principal writes three bad sightings; police's consumer quarantines each
    with its reason and goes on."""
    topology = keys.topology
    transport = keys.codec_for("transport")
    readers = topology.topic(SIGHTINGS).readers
    source = "/agencies/transport/demo"
    forged = keys.forged(transport.encode(sighting, source=source, readers=readers), "transport")
    tampered = transport.encode(sighting, source=source, readers=readers)
    flipped = bytearray(tampered.value)
    flipped[-1] ^= 0x01
    bad = [
        ("a sighting signed with a transport key no root certified (a forgery)",
         forged.key, forged.value, forged.headers),
        ("a signed sighting with one byte changed on the way", tampered.key, bytes(flipped),
         tampered.headers),
        ("garbage bytes from a faulty system, unsigned", b"garbage", b"\x00not an avro event", []),
    ]
    registry = police.metrics.registry
    before = _reasons(registry, police.agency)
    producer = AIOKafkaProducer(**kafka_as(topology.principal_of("transport")).aiokafka_kwargs())
    await producer.start()
    try:
        for text, key, value, headers in bad:
            meta = await producer.send_and_wait(SIGHTINGS, value, key=key, headers=headers)
            print(f"\n[transport] {text}: {meta.topic}[{meta.partition}]@{meta.offset}")
    finally:
        await producer.stop()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _count(registry, police.agency, before) < len(bad):
        await police.poll_once(handler, timeout_ms=300)
    after = _reasons(registry, police.agency)
    found = ", ".join(f"{reason} x{after[reason] - before.get(reason, 0):.0f}"
                      for reason in sorted(after) if after[reason] > before.get(reason, 0))
    print(f"  police's consumer verified each before decoding: quarantined to "
          f"{police.quarantine_topic} with the reason ({found or 'none'}), "
          "never acted on, and went on")


def _reasons(registry: CollectorRegistry, agency: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for metric in registry.collect():
        for sample in metric.samples:
            if (sample.name == "exchange_events_quarantined_total"
                    and sample.labels.get("agency") == agency):
                reason = sample.labels.get("reason", "?")
                found[reason] = found.get(reason, 0) + sample.value
    return found


def _count(registry: CollectorRegistry, agency: str, before: dict[str, float]) -> float:
    return sum(_reasons(registry, agency).values()) - sum(before.values())
