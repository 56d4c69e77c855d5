"""The operators' own principal is enough for the lag monitor, the certificate expiries and the
doctor (no admin): it describes the cluster, topics and groups; it reads no record outside the
dead-letter, quarantine, audit, key and notary topics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import TopicAuthorizationFailedError
from kafka.structs import OffsetAndMetadata
from prometheus_client import CollectorRegistry

from exchange.operations.certificates import CertificateExpiry
from exchange.operations.doctor import Doctor
from exchange.operations.monitor import LagMonitor

pytestmark = pytest.mark.broker


def test_the_lag_monitor_sees_every_group_as_the_operators(provisioned, unique) -> None:
    group = unique("police.lag-probe")
    police = KafkaConsumer(group_id=group, enable_auto_commit=False,
                           **provisioned.kafka_as("police").kafka_python_kwargs())
    police.assign([TopicPartition("exchange.sighting.to.police", 0)])
    police.commit({TopicPartition("exchange.sighting.to.police", 0):
                   OffsetAndMetadata(0, "", -1)})
    police.close()
    monitor = LagMonitor(provisioned.kafka_as("operators"), CollectorRegistry())
    try:
        snapshot = monitor.poll()
    finally:
        monitor.close()
    assert group in {g.group for g in snapshot.groups}  # another agency's group, described
    assert ("exchange.sighting", 0) in snapshot.latest  # a topic it may not read, its offsets


def test_the_doctor_runs_as_the_operators(provisioned) -> None:
    doctor = Doctor(provisioned.kafka_as("operators"), provisioned.topology,
                    since=datetime.now(UTC) - timedelta(minutes=5), replication_cap=1)
    checks = {c.name: c for c in doctor.run()}
    for check in checks.values():
        assert "Authorization" not in check.detail, check
        assert "could not check" not in check.detail, check
    assert checks["active controller"].status == "ok"
    assert checks["topology plan empty"].status == "ok", checks["topology plan empty"]


def _poll(consumer: KafkaConsumer, *, times: int) -> None:
    for _ in range(times):
        consumer.poll(timeout_ms=200)


def test_the_operators_read_no_record_of_an_exchange_topic(provisioned) -> None:
    consumer = KafkaConsumer(**provisioned.kafka_as("operators").kafka_python_kwargs(),
                             enable_auto_commit=False, auto_offset_reset="earliest")
    consumer.assign([TopicPartition("exchange.sighting", 0)])
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            _poll(consumer, times=50)
    finally:
        consumer.close()


def test_certificate_expiries_of_the_ca_and_the_broker(provisioned) -> None:
    registry = CollectorRegistry()
    kafka = provisioned.kafka_as("operators")
    certificates = CertificateExpiry(kafka, registry)
    found = {e.role: e for e in certificates.refresh()}
    assert certificates.problems == []
    assert set(found) >= {"ca", "broker"}
    assert found["broker"].source == kafka.bootstrap_servers.split(",")[0]
    for role in ("ca", "broker"):
        seconds = registry.get_sample_value("exchange_tls_certificate_expiry_seconds", {
            "role": role, "subject": found[role].subject, "source": found[role].source})
        assert seconds is not None
        assert 1 * 86400 < seconds < 3651 * 86400, (role, seconds)
    # The broker's certificate (90 days) expires before the CA (10 years) that issued it.
    assert found["broker"].not_after < found["ca"].not_after
