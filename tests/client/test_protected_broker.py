"""Protected publishing and consuming through the real broker: canaries, quarantine, audit."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from prometheus_client import CollectorRegistry
from support.protection import files_containing, quarantine_reasons

from exchange.client.consumer import EventConsumer
from exchange.client.publisher import Publisher
from exchange.codec import DecodedEvent, EventCodec
from exchange.examples import example
from exchange.metrics import BusMetrics
from exchange.models.registry import EVENTS
from exchange.protection.audit import AuditTrail, case_history, verify_chains
from exchange.protection.audit_kafka import KafkaAuditSink, read_audit
from exchange.protection.entitlements import load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import SIG_HEADER, Verifier
from exchange.protection.unprotected import Unprotected

pytestmark = pytest.mark.broker


class Bus:
    """Keys, entitlements and protected codecs for every agency of the provisioned topology."""

    def __init__(self, provisioned: Any, codec: EventCodec, root: Path) -> None:
        self.provisioned = provisioned
        self.topology = provisioned.topology
        self.codec = codec
        self.keys = FileKeyStore(root)
        self.keys.init([a.id for a in self.topology.agencies])
        self.entitlements = load_entitlements(topology=self.topology)

    def protected(self, agency: str) -> ProtectedCodec:
        self.keys.reload()
        verifier = Verifier(self.keys, writers_of=lambda t: self.topology.topic(t).writers)
        return ProtectedCodec(
            self.codec, self.keys, self.entitlements, agency=agency, verifier=verifier
        )

    def consumer(
        self, agency: str, topic: str, registry: CollectorRegistry, audit: AuditTrail | None
    ) -> EventConsumer:
        return EventConsumer(
            self.provisioned.kafka_as(agency),
            self.codec,
            [topic],
            agency=agency,
            group_id=f"{agency}.protected-test.{uuid.uuid4().hex[:8]}",
            deadletter_topic=self.topology.deadletter_topic(agency).name,
            metrics=BusMetrics.on(registry),
            protection=self.protected(agency),
            quarantine_topic=f"exchange.quarantine.{agency}",
            audit=audit,
        )


async def consume(
    consumer: EventConsumer, want: Callable[[list[DecodedEvent]], bool], seen_min: int = 0
) -> list[DecodedEvent]:
    got: list[DecodedEvent] = []

    async def handler(decoded: DecodedEvent, record: ConsumerRecord) -> None:
        got.append(decoded)

    await consumer.start()
    seen = 0
    try:
        async with asyncio.timeout(60):
            while not want(got) or seen < seen_min:
                seen += await consumer.poll_once(handler, timeout_ms=500)
    finally:
        await consumer.stop()
    return got


def rescue_with(name: str, health: str) -> Any:
    data = example("rescue").model_dump(mode="json")
    data["victims"][0]["person"]["name"] = name
    data["victims"][0]["situationDetails"] = health
    data["rescueId"] = f"R-{uuid.uuid4().hex[:8]}"
    return EVENTS["rescue"].model.model_validate(data)


async def the_search_finds_plaintext(bus: Bus, registry: CollectorRegistry, control: str) -> None:
    """The byte search is real: an unprotected event's canary is found in the broker's files."""
    provisioned = bus.provisioned
    async with Publisher(
        provisioned.kafka_as("police"),
        bus.codec,
        bus.topology,
        agency="police",
        source="/agencies/police/case-system",
        metrics=BusMetrics.on(registry),
        protection=Unprotected("test: the control, which the byte search must find"),
    ) as plain:
        await plain.publish(rescue_with(control, "none"))
    nodes = provisioned.broker.cluster.nodes
    assert files_containing([Path(n.data_dir) for n in nodes], control.encode())


async def the_audit_shows_who_got_what(
    bus: Bus, chains: set[str], case: str, event_ids: list[str]
) -> None:
    """Our chains are intact (other tests write, and break, chains of their own)."""
    partitions = bus.topology.topic("exchange.audit").partitions
    entries = await read_audit(bus.provisioned.kafka_as("operators"), partitions)
    report = verify_chains([e for e in entries if e.record.get("chain") in chains])
    assert report.ok, report.broken
    assert report.chains == 2
    history = [r for r in case_history(entries, case) if r["event_id"] in event_ids]
    actions = {(r["event_id"], r["agency"], r["action"]) for r in history}
    for event_id in event_ids:
        assert {(event_id, "police", "published"), (event_id, "health", "delivered")} <= actions
    health_reads = [r for r in history if r["agency"] == "health"]
    assert all({"health", "minor"} <= set(r["categories"]) for r in health_reads)


async def audit_producer(provisioned: Any, agency: str) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(
        **provisioned.kafka_as(agency).aiokafka_kwargs(), acks="all", enable_idempotence=True
    )
    await producer.start()
    return producer


async def test_canaries_are_sealed_on_the_wire_and_open_only_for_entitled_readers(
    provisioned, codec: EventCodec, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bus = Bus(provisioned, codec, tmp_path / "keys")
    tag = uuid.uuid4().hex[:10]
    names = [f"CanaryName{tag}old", f"CanaryName{tag}new"]
    healths = [f"CanaryHealth{tag}old", f"CanaryHealth{tag}new"]
    registry = CollectorRegistry()
    police_audit = await audit_producer(provisioned, "police")
    audit = AuditTrail(KafkaAuditSink(police_audit), "police")
    case_ids: list[str] = []
    event_ids: list[str] = []
    try:
        for round_, (name, health) in enumerate(zip(names, healths, strict=True)):
            if round_ == 1:  # rotation between the two events: both must still open
                for agency, kind in (("police", "enc"), ("police", "sig"), ("health", "enc")):
                    bus.keys.rotate(agency, kind)
            event = rescue_with(name, health)
            case_ids.append(event.caseId)
            async with Publisher(
                provisioned.kafka_as("police"),
                codec,
                bus.topology,
                agency="police",
                source="/agencies/police/case-system",
                metrics=BusMetrics.on(registry),
                protection=bus.protected("police"),
                audit=audit,
            ) as publisher:
                event_ids.append((await publisher.publish(event)).event_id)
    finally:
        await police_audit.stop()

    def both(got: list[DecodedEvent]) -> bool:
        return {e.event.victims[0].person.name for e in got} >= set(names)

    health_audit = await audit_producer(provisioned, "health")
    try:
        health_trail = AuditTrail(KafkaAuditSink(health_audit), "health")
        health = bus.consumer("health", "exchange.rescue", registry, health_trail)
        got = await consume(health, both)
    finally:
        await health_audit.stop()
    opened = {e.event.victims[0].person.name: e.event.victims[0].situationDetails for e in got}
    assert opened[names[0]] == healths[0]  # written before the rotation
    assert opened[names[1]] == healths[1]  # after it

    hr = bus.consumer("human-resources", "exchange.rescue", registry, None)
    got = await consume(hr, both)
    mine = [e for e in got if e.event.victims[0].person.name in names]
    assert {e.event.victims[0].situationDetails for e in mine} == {None}  # health: not entitled

    cluster = provisioned.broker.cluster
    roots = [Path(n.data_dir) for n in cluster.nodes] + [Path(n.log_dir) for n in cluster.nodes]
    for canary in (*names, *healths):
        assert files_containing(roots, canary.encode()) == [], canary
        assert canary not in caplog.text

    await the_search_finds_plaintext(bus, registry, f"CanaryControl{tag}")

    chains = {audit.chain, health_trail.chain}
    await the_audit_shows_who_got_what(bus, chains, case_ids[0], event_ids)


async def test_forged_tampered_replayed_and_unsigned_events_are_all_quarantined(
    provisioned, codec: EventCodec, tmp_path: Path
) -> None:
    bus = Bus(provisioned, codec, tmp_path / "keys")
    topic = "exchange.sighting"
    readers = bus.topology.topic(topic).readers
    transport = bus.protected("transport")

    def signed() -> Any:
        return transport.encode(
            example("transport-sighting"),
            source="/agencies/transport/staff-app",
            readers=readers,
        )

    def without(headers: list[tuple[str, bytes]], name: str) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in headers if k != name]

    forger = FileKeyStore(tmp_path / "forger")
    forger.init(["transport"])
    forged = ProtectedCodec(codec, forger, bus.entitlements, agency="transport").encode(
        example("transport-sighting"), source="/agencies/transport/staff-app", readers=[]
    )  # the forger has no reader's key: it seals for nobody, but signs as "transport.sig.1"
    genuine = signed()
    unsigned = signed()
    tampered_value = signed()
    tampered_header = signed()
    flipped = bytearray(tampered_value.value)
    flipped[-2] ^= 0x01
    records: list[tuple[str, bytes, list[tuple[str, bytes]]]] = [
        ("genuine", genuine.value, genuine.headers),
        ("unsigned", unsigned.value, without(unsigned.headers, SIG_HEADER)),
        ("bad-signature", bytes(flipped), tampered_value.headers),
        (
            "bad-signature",
            tampered_header.value,
            [*without(tampered_header.headers, "ce_time"), ("ce_time", b"2020-01-01T00:00:00Z")],
        ),
        ("bad-signature", forged.value, forged.headers),
        ("replayed", genuine.value, genuine.headers),
    ]
    producer = AIOKafkaProducer(**provisioned.kafka_as("transport").aiokafka_kwargs(), acks="all")
    await producer.start()
    expected: dict[int, str] = {}
    partition = -1  # one key: every record on one partition (others hold other tests' records)
    try:
        for reason, value, headers in records:
            sent = await producer.send_and_wait(
                topic, value=value, key=genuine.key, headers=headers
            )
            expected[sent.offset] = reason
            partition = sent.partition
    finally:
        await producer.stop()

    registry = CollectorRegistry()
    police = bus.consumer("police", topic, registry, None)
    delivered: list[int] = []

    async def handler(decoded: DecodedEvent, record: ConsumerRecord) -> None:
        if record.partition == partition and record.offset in expected:
            delivered.append(record.offset)

    reasons: dict[int, str] = {}
    await police.start()
    try:
        async with asyncio.timeout(60):
            while len(reasons) < len(expected) - 1:
                await police.poll_once(handler, timeout_ms=500)
                reasons = await quarantined_offsets(
                    provisioned, "police", (topic, partition), expected
                )
    finally:
        await police.stop()
    assert delivered == [o for o, r in expected.items() if r == "genuine"]  # acted on once
    assert reasons == {o: r for o, r in expected.items() if r != "genuine"}  # 100 % refused
    for reason in ("unsigned", "bad-signature", "replayed"):
        counted = registry.get_sample_value(
            "exchange_events_quarantined_total",
            {"topic": topic, "reason": reason, "agency": "police"},
        )
        assert (counted or 0) >= sum(1 for r in reasons.values() if r == reason), reason


async def quarantined_offsets(
    provisioned: Any, agency: str, where: tuple[str, int], offsets: dict[int, str]
) -> dict[int, str]:
    """Original offset -> reason of our records (read from ``where``: topic, partition) in
    ``agency``'s quarantine topic."""
    return {
        offset: reason
        for (topic, partition, offset), reason in (
            await quarantine_reasons(provisioned, agency)
        ).items()
        if (topic, partition) == where and offset in offsets
    }


async def test_batch_signed_events_are_read_alone_and_a_tampered_member_is_quarantined(
    provisioned, codec: EventCodec, tmp_path: Path
) -> None:
    bus = Bus(provisioned, codec, tmp_path / "keys")
    topic = "exchange.sighting"
    source = "/agencies/transport/staff-app"
    registry = CollectorRegistry()
    async with Publisher(
        provisioned.kafka_as("transport"),
        codec,
        bus.topology,
        agency="transport",
        source=source,
        metrics=BusMetrics.on(registry),
        protection=bus.protected("transport"),
    ) as publisher:
        published = await publisher.publish_many([example("transport-sighting")] * 5)
    assert len({r.event_id for r in published}) == 5
    # A second batch sent by hand: one member as signed, one with its body changed, one with
    # the proof of another member.
    readers = bus.topology.topic(topic).readers
    members = bus.protected("transport").encode_batch(
        [example("transport-sighting")] * 3, source=source, readers=readers
    )
    flipped = bytearray(members[1].value)
    flipped[-2] ^= 0x01
    moved = [(k, v) for k, v in members[2].headers if k != SIG_HEADER]
    moved.append((SIG_HEADER, dict(members[0].headers)[SIG_HEADER]))
    producer = AIOKafkaProducer(**provisioned.kafka_as("transport").aiokafka_kwargs(), acks="all")
    await producer.start()
    expected: dict[tuple[int, int], str] = {(r.partition, r.offset): "genuine" for r in published}
    try:
        for reason, value, headers in (
            ("genuine", members[0].value, members[0].headers),
            ("bad-signature", bytes(flipped), members[1].headers),
            ("bad-signature", members[2].value, moved),
        ):
            sent = await producer.send_and_wait(
                topic, value=value, key=members[0].key, headers=headers
            )
            expected[(sent.partition, sent.offset)] = reason
    finally:
        await producer.stop()

    police = bus.consumer("police", topic, registry, None)
    delivered: dict[tuple[int, int], bytes] = {}

    async def handler(decoded: DecodedEvent, record: ConsumerRecord) -> None:
        if (record.partition, record.offset) in expected:
            delivered[(record.partition, record.offset)] = dict(record.headers)[SIG_HEADER]

    genuine = {where for where, reason in expected.items() if reason == "genuine"}
    refused = {where: reason for where, reason in expected.items() if reason != "genuine"}
    reasons: dict[tuple[int, int], str] = {}
    await police.start()
    try:
        async with asyncio.timeout(60):
            while set(delivered) != genuine or reasons != refused:
                await police.poll_once(handler, timeout_ms=500)
                reasons = {
                    (partition, offset): reason
                    for (name, partition, offset), reason in (
                        await quarantine_reasons(provisioned, "police")
                    ).items()
                    if name == topic and (partition, offset) in refused
                }
    finally:
        await police.stop()
    assert set(delivered) == genuine  # every batch member read and verified alone
    assert all(b":tree:5:" in delivered[(r.partition, r.offset)] for r in published)
