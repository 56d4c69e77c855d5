"""``exchange monitor`` against the real broker: every group's lag in records and seconds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.structs import OffsetAndMetadata
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from support.monitoring import kafka_env

from exchange.operations.monitor import LagMonitor
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.broker

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORT = int(os.environ.get("EXCHANGE_TEST_BASE_PORT", "29092")) + 40


def _produce(admin: KafkaSettings, topic: str, count: int) -> None:
    producer = KafkaProducer(**admin.kafka_python_kwargs())
    for _ in range(count):
        producer.send(topic, b"x", partition=0)
    producer.flush()
    producer.close()


def _commit(admin: KafkaSettings, topic: str, group: str, offset: int) -> None:
    consumer = KafkaConsumer(group_id=group, enable_auto_commit=False,
                             **admin.kafka_python_kwargs())  # fmt: skip
    consumer.assign([TopicPartition(topic, 0)])
    consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(offset, "", -1)})
    consumer.close()


@pytest.fixture
def topic(kafka, unique: Callable[[str], str]) -> str:
    name = unique("ops.lag")
    admin = KafkaAdminClient(**kafka.admin.kafka_python_kwargs())
    admin.create_topics([NewTopic(name, 1, 1)])
    admin.close()
    return name


def test_lag_in_records_and_seconds_from_the_brokers_offsets(kafka, topic, unique) -> None:
    group = unique("ops.group")
    now = [1000.0]
    monitor = LagMonitor(kafka.admin, CollectorRegistry(), clock=lambda: now[0])
    try:
        _produce(kafka.admin, topic, 5)
        monitor.poll()  # the log ends at 5 at t=1000
        _produce(kafka.admin, topic, 5)
        _commit(kafka.admin, topic, group, 7)
        now[0] = 1060.0
        snapshot = monitor.poll()  # at 10 at t=1060; record 7 was written at ~1024
    finally:
        monitor.close()
    [lag] = [g for g in snapshot.groups if g.group == group]
    [partition] = lag.partitions
    assert (partition.topic, partition.committed, partition.latest) == (topic, 7, 10)
    assert partition.lag == 3
    assert partition.lag_seconds == pytest.approx(36.0)
    assert snapshot.latest[(topic, 0)] == 10
    assert snapshot.earliest[(topic, 0)] == 0


def _get(path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_monitor_process_serves_metrics_health_and_readiness(
    kafka, topic, unique, tmp_path
) -> None:
    group = unique("ops.group")
    _produce(kafka.admin, topic, 4)
    _commit(kafka.admin, topic, group, 1)
    env = kafka_env(kafka.admin)
    with (tmp_path / "monitor.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "exchange.cli.main", "monitor", "--port", str(PORT),
             "--interval", "1"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        status = 0
        while time.monotonic() < deadline:
            try:
                status, _ = _get("/readyz")
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.3)
        assert status == 200, (tmp_path / "monitor.log").read_text()
        assert _get("/healthz") == (200, "ok\n")
        assert _get("/nothing")[0] == 404
        _, text = _get("/metrics")
        samples = {
            (s.name, s.labels.get("group"), s.labels.get("topic")): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
        }
        assert samples[("kafka_consumergroup_group_lag", group, topic)] == 3
        assert samples[("kafka_consumergroup_group_max_lag", group, None)] == 3
        assert samples[("kafka_consumergroup_group_sum_lag", group, None)] == 3
        assert samples[("kafka_partition_latest_offset", None, topic)] == 4
        assert ("kafka_consumergroup_group_max_lag_seconds", group, None) in samples
    finally:
        process.terminate()
        assert process.wait(15) == 0
