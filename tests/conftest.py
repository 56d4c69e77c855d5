"""Shared fixtures. Tests that need Kafka are marked ``broker`` and run against a real broker.

By default the session starts its own local broker (``exchange.broker.LocalCluster``) in
``.state/test-broker`` on ports 29092/29093, so it never touches the developer's broker on
19092, and stops it at the end. ``EXCHANGE_TEST_BASE_PORT`` moves it (and the 3-node test's
cluster, at base + 100) so that two checkouts can run their tests at the same time. To reuse a
running cluster instead, set ``EXCHANGE_TEST_BOOTSTRAP``, ``EXCHANGE_TEST_ADMIN_PASSWORD``
(SCRAM-SHA-512 user ``admin``) and ``EXCHANGE_TEST_CAFILE`` (the CA that signed its
certificates). Every client of the tests talks SASL_SSL and verifies the CA and host name.
A broker that cannot be started fails the tests that need it; nothing is skipped.

Every client of the tests is protected, as every client of the project is: ``provisioned``
makes every agency's keys in ``.state/test-broker/keys`` (the state folder the tests' workers
and CLI runs are given, as ``exchange broker up`` does on a development host) and
:meth:`Provisioned.protection_for` gives an agency's protected codec over them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from exchange.broker.local import LocalCluster
from exchange.codec import DecodedEvent, EventCodec
from exchange.credentials import CredentialStore
from exchange.protection.entitlements import Entitlements, load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier
from exchange.schemas.catalogue import Catalogue
from exchange.settings import KafkaSettings
from exchange.topology.apply import apply_topology
from exchange.topology.loader import load_topology
from exchange.topology.model import Topology
from exchange.topology.trust import MigrationPolicy, load_trust

REPO = Path(__file__).resolve().parent.parent
TEST_STATE = REPO / ".state" / "test-broker"
TEST_BASE_PORT = int(os.environ.get("EXCHANGE_TEST_BASE_PORT", "29092"))


@dataclass(frozen=True)
class BrokerHandle:
    bootstrap: str
    admin: KafkaSettings
    cluster: LocalCluster | None


@pytest.fixture(scope="session")
def kafka() -> Iterator[BrokerHandle]:
    bootstrap = os.environ.get("EXCHANGE_TEST_BOOTSTRAP")
    if bootstrap:
        password = os.environ["EXCHANGE_TEST_ADMIN_PASSWORD"]
        cafile = os.environ.get("EXCHANGE_TEST_CAFILE")
        settings = KafkaSettings(
            bootstrap_servers=bootstrap, ssl_cafile=Path(cafile) if cafile else None
        ).with_principal("admin", password)
        yield BrokerHandle(bootstrap, settings, None)
        return
    cluster = LocalCluster(TEST_STATE, base_port=TEST_BASE_PORT)
    cluster.reset()
    cluster.up()
    try:
        yield BrokerHandle(cluster.bootstrap, cluster.admin_settings(), cluster)
    finally:
        cluster.down()


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Fresh names for topics, groups and principals, so tests never see each other's data."""
    stem = request.node.name.split("[")[0].replace("_", "-")[:40]

    def make(prefix: str) -> str:
        return f"{prefix}.{stem}.{uuid.uuid4().hex[:8]}"

    return make


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test is a failure in disguise: fail the run if anything was skipped."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter:
            reporter.write_line(f"FAILED: {skipped} test(s) skipped; every test must run here")


@dataclass(frozen=True)
class Provisioned:
    """The repository's topology applied to the test broker, with every principal's password."""

    topology: Topology
    broker: BrokerHandle
    credentials: CredentialStore
    keys: FileKeyStore
    entitlements: Entitlements
    codec: EventCodec

    def protection_for(self, agency: str) -> ProtectedCodec:
        """``agency``'s protected codec (seal + sign, verify + open) over the test state's keys,
        as ``exchange publish|tail|worker`` build it; a fresh one (fresh replay memory) per call."""
        topology = self.topology
        verifier = Verifier(
            self.keys, writers_of=lambda topic: topology.topic(topic).writers,
            migration=MigrationPolicy(load_trust()),
        )
        return ProtectedCodec(
            self.codec, self.keys, self.entitlements, agency=agency,
            verifier=verifier,
        )

    def open_as(self, agency: str, record: Any) -> DecodedEvent:
        """A record read from the bus, verified and opened as ``agency`` (raises
        ``VerificationError`` to quarantine it, ``DecodeError`` to dead-letter it)."""
        return self.protection_for(agency).decode(
            record.key, record.value, record.headers or (),
            (record.topic, record.partition, record.offset),
        ).decoded

    def kafka_as(self, agency_id: str) -> KafkaSettings:
        principal = self.topology.principal_of(agency_id)
        password = self.credentials.password_for(principal)
        return self.broker.admin.with_principal(
            principal, password
        )


@pytest.fixture(scope="session")
def provisioned(kafka: BrokerHandle) -> Provisioned:
    topology = load_topology()
    credentials = CredentialStore(TEST_STATE / "credentials")
    apply_topology(topology, kafka.admin, credentials, 1)
    keys = FileKeyStore(TEST_STATE / "keys")
    keys.init([a.id for a in topology.agencies])  # what `exchange broker up` does on a dev host
    keys.reload()
    return Provisioned(
        topology, kafka, credentials, keys, load_entitlements(topology=topology),
        EventCodec(Catalogue.load()),
    )


@pytest.fixture(scope="session")
def codec() -> EventCodec:
    return EventCodec(Catalogue.load())
