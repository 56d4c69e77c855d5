"""The same code runs a three-node cluster on loopback, which keeps serving when a node dies."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from exchange.broker.local import LocalCluster

pytestmark = pytest.mark.broker

STATE = Path(__file__).resolve().parents[2] / ".state" / "test-cluster"


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    base_port = int(os.environ.get("EXCHANGE_TEST_BASE_PORT", "29092")) + 100
    cluster = LocalCluster(STATE, nodes=3, base_port=base_port)
    cluster.reset()
    cluster.up()
    try:
        yield cluster
    finally:
        cluster.down()


async def _produce_and_read(cluster: LocalCluster, topic: str, count: int) -> list[bytes]:
    settings = cluster.admin_settings().aiokafka_kwargs()
    producer = AIOKafkaProducer(**settings, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for i in range(count):
            await producer.send_and_wait(topic, f"event-{i}".encode(), key=b"case-1")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, **settings, group_id=f"test.{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: list[bytes] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while len(seen) < count and loop.time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                seen.extend(r.value for r in records)
    finally:
        await consumer.stop()
    return seen


async def test_three_nodes_replicate_and_survive_a_node_failure(cluster: LocalCluster) -> None:
    statuses = cluster.status()
    assert [s.node_id for s in statuses] == [1, 2, 3]
    assert all(s.serving for s in statuses)
    topic = f"test.cluster.{uuid.uuid4().hex[:6]}"
    admin = KafkaAdminClient(**cluster.admin_settings().kafka_python_kwargs())
    try:
        admin.create_topics([NewTopic(topic, 1, 3, topic_configs={"min.insync.replicas": "2"})])
        # Metadata reaches every broker shortly after the create returns: wait for the leader.
        deadline = time.monotonic() + 30
        while True:
            partitions = admin.describe_topics([topic])[0]["partitions"]
            if (partitions and partitions[0]["leader_id"] >= 0) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        described = admin.describe_topics([topic])[0]
    finally:
        admin.close()
    assert len(described["partitions"][0]["replica_nodes"]) == 3

    leader = described["partitions"][0]["leader_id"]
    cluster.stop_node(leader, hard=True)  # the partition's leader dies without warning
    try:
        seen = await _produce_and_read(cluster, topic, 20)
    finally:
        cluster.start_node(leader)
    assert seen == [f"event-{i}".encode() for i in range(20)]
