"""The fail-closed policy under an audit outage, on the real broker: a publisher refuses new
events once its checkpoints wait too long for a time-stamp (the TSA is down), accepts them again
once the notary anchors them, and refuses when its audit topic cannot be written (ACL)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from exchange.client.publisher import Publisher
from exchange.codec import EventCodec
from exchange.evidence import notary
from exchange.evidence.checkpoints import AnchoredTrail, CheckpointPolicy
from exchange.evidence.exceptions import AuditUnavailableError
from exchange.evidence.guard import AnchorWatcher, AuditGuard, GuardedSink
from exchange.evidence.metrics import EvidenceMetrics
from exchange.evidence.tsa import TsaClient
from exchange.evidence.tsa_authority import TsaServer
from exchange.examples import example
from exchange.metrics import BusMetrics
from exchange.protection.audit_kafka import KafkaAuditSink, audit_producer
from exchange.protection.keys import FileKeyStore
from exchange.settings import FailClosedPolicy

pytestmark = pytest.mark.broker


def rescue() -> Any:
    data = example("rescue").model_dump(mode="json")
    data["rescueId"] = f"R-{uuid.uuid4().hex[:8]}"
    return type(example("rescue")).model_validate(data)


def gauge(registry: CollectorRegistry, name: str, agency: str = "police") -> float:
    value = registry.get_sample_value(name, {"agency": agency})
    assert value is not None, name
    return value


async def until(condition: Any, seconds: float = 60) -> None:
    for _ in range(int(seconds * 5)):
        if condition():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {seconds} s")


async def test_a_tsa_outage_closes_the_publisher_and_its_return_opens_it(
    provisioned, codec: EventCodec, tmp_path: Path
) -> None:
    keys = FileKeyStore(tmp_path / "keys")
    keys.init(["police"])
    tsa = TsaServer(tmp_path / "tsa").start()
    port = int(tsa.url.split(":")[2].split("/")[0])
    tsa.stop()  # the outage: nothing answers on the TSA's port
    registry = CollectorRegistry()
    metrics = EvidenceMetrics.on(registry)
    core = notary.NotaryCore(keys, metrics)
    stop = asyncio.Event()
    running = asyncio.create_task(notary.run(
        provisioned.kafka_as("joint-meeting-office"), core,
        TsaClient(tsa.url, ca_file=tsa.ca_file, timeout_s=2), notary.NotaryConfig(interval_s=0.3),
        stop,
    ))
    guard = AuditGuard("police", FailClosedPolicy(max_unanchored_seconds=2.0), metrics)
    producer = audit_producer(provisioned.kafka_as("police"))
    await producer.start()
    trail = AnchoredTrail(GuardedSink(KafkaAuditSink(producer), guard), "police", keys,
                          policy=CheckpointPolicy(every_records=1))
    watcher = AnchorWatcher(provisioned.kafka_as("police"), guard, trail.chain)
    await watcher.start()
    back: TsaServer | None = None
    try:
        async with Publisher(
            provisioned.kafka_as("police"), codec, provisioned.topology, agency="police",
            source="/agencies/police/case-system", metrics=BusMetrics.on(registry),
            audit=trail, guard=guard,
            protection=provisioned.protection_for("police"),
        ) as publisher:
            await publisher.publish(rescue())  # its checkpoint now waits for an anchor
            assert guard.pending
            await until(lambda: guard.unanchored_seconds() > 2.5)
            with pytest.raises(AuditUnavailableError, match="not time-stamped") as refused:
                await publisher.publish(rescue())
            assert refused.value.retry_after > 0
            assert gauge(registry, "exchange_audit_fail_closed") == 1
            assert gauge(registry, "exchange_audit_unanchored_seconds") > 2
            assert registry.get_sample_value("exchange_notary_tsa_failures_total")
            assert registry.get_sample_value("exchange_audit_refused_total", {"agency": "police"})
            back = TsaServer(tmp_path / "tsa", port=port).start()  # the TSA returns
            await until(lambda: not guard.pending)
            await publisher.publish(rescue())
            assert gauge(registry, "exchange_audit_fail_closed") == 0
            assert back.answered >= 1
    finally:
        await watcher.stop()
        stop.set()
        await running
        await producer.stop()
        if back is not None:
            back.stop()


async def test_an_unwritable_audit_topic_closes_the_publisher(
    provisioned, codec: EventCodec, tmp_path: Path
) -> None:
    """The publisher's audit records go to a topic its principal may not write (the ACL an
    outage or a misconfiguration leaves): after the grace period no event is accepted."""
    keys = FileKeyStore(tmp_path / "keys")
    keys.init(["police"])
    registry = CollectorRegistry()
    guard = AuditGuard("police", FailClosedPolicy(max_unwritten_seconds=1.0),
                       EvidenceMetrics.on(registry))
    settings = provisioned.kafka_as("police").model_copy(update={"request_timeout_ms": 5000})
    producer = audit_producer(settings)
    await producer.start()
    denied = KafkaAuditSink(producer, topic="exchange.notary")  # police is not a writer
    trail = AnchoredTrail(GuardedSink(denied, guard), "police", keys)
    bus = BusMetrics.on(registry)
    try:
        async with Publisher(
            settings, codec, provisioned.topology, agency="police",
            source="/agencies/police/case-system", metrics=bus, audit=trail, guard=guard,
            protection=provisioned.protection_for("police"),
        ) as publisher:
            with pytest.raises(Exception, match="TopicAuthorizationFailed") as failed:
                await publisher.publish(rescue())  # sent, but its audit record is refused
            assert "Authorization" in type(failed.value).__name__
            assert guard.failing_since is not None
            await asyncio.sleep(1.2)
            sent = registry.get_sample_value("exchange_events_published_total", {
                "topic": "exchange.rescue", "type": "exchange.events.Rescue", "agency": "police"})
            with pytest.raises(AuditUnavailableError, match="unwritten"):
                await publisher.publish(rescue())
            assert registry.get_sample_value("exchange_events_published_total", {
                "topic": "exchange.rescue", "type": "exchange.events.Rescue",
                "agency": "police"}) == sent  # refused before it was sent
            assert gauge(registry, "exchange_audit_fail_closed") == 1
            assert gauge(registry, "exchange_audit_unwritten_seconds") >= 1
    finally:
        await producer.stop()
