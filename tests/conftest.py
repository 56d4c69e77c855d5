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
from pathlib import Path

import pytest
from support.provisioned import BrokerHandle, Provisioned, fresh_broker, provision

from exchange.codec import EventCodec
from exchange.schemas.catalogue import Catalogue
from exchange.settings import KafkaSettings

REPO = Path(__file__).resolve().parent.parent
TEST_STATE = REPO / ".state" / "test-broker"
TEST_BASE_PORT = int(os.environ.get("EXCHANGE_TEST_BASE_PORT", "29092"))


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
    with fresh_broker(TEST_STATE, TEST_BASE_PORT) as handle:
        yield handle


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


@pytest.fixture(scope="session")
def provisioned(kafka: BrokerHandle) -> Provisioned:
    return provision(kafka, TEST_STATE)


@pytest.fixture(scope="session")
def codec() -> EventCodec:
    return EventCodec(Catalogue.load())
