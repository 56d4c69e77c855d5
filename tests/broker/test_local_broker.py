"""The local broker really is an authenticated, authorizing Apache Kafka."""

from __future__ import annotations

import pytest
from kafka.admin import KafkaAdminClient

from exchange.settings import KafkaSettings

pytestmark = pytest.mark.broker


def test_admin_principal_reaches_the_broker(kafka) -> None:
    client = KafkaAdminClient(**kafka.admin.kafka_python_kwargs())
    try:
        cluster = client.describe_cluster()
    finally:
        client.close()
    assert len(cluster["brokers"]) >= 1


def test_broker_status_reports_serving(kafka) -> None:
    if kafka.cluster is None:
        pytest.fail("EXCHANGE_TEST_BOOTSTRAP points at an external cluster; status not checked")
    statuses = kafka.cluster.status()
    assert statuses
    assert all(s.serving for s in statuses)


def test_unauthenticated_client_cannot_use_the_broker(kafka) -> None:
    plain = KafkaSettings(bootstrap_servers=kafka.bootstrap, security_protocol="PLAINTEXT")
    # kafka-python raises several kinds here (no broker version, connection closed, timeout).
    with pytest.raises(Exception):  # noqa: B017, PT011
        KafkaAdminClient(**plain.kafka_python_kwargs(), api_version_auto_timeout_ms=3000)
