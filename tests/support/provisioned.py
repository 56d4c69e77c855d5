"""The test broker handle and the topology provisioned on it (with every agency's keys)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class BrokerHandle:
    bootstrap: str
    admin: KafkaSettings
    cluster: LocalCluster | None


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


def provision(kafka: BrokerHandle, state: Path) -> Provisioned:
    """The topology applied to ``kafka`` (principals' passwords in ``state/credentials``) and
    every agency's keys in ``state/keys``, as ``exchange broker up`` makes them on a dev host."""
    topology = load_topology()
    credentials = CredentialStore(state / "credentials")
    apply_topology(topology, kafka.admin, credentials, 1)
    keys = FileKeyStore(state / "keys")
    keys.init([a.id for a in topology.agencies])
    keys.reload()
    return Provisioned(
        topology, kafka, credentials, keys, load_entitlements(topology=topology),
        EventCodec(Catalogue.load()),
    )


@contextmanager
def fresh_broker(state: Path, base_port: int) -> Iterator[BrokerHandle]:
    """A one-node broker in ``state`` on ``base_port``, its data reset first, stopped after."""
    cluster = LocalCluster(state, base_port=base_port)
    cluster.reset()
    cluster.up()
    try:
        yield BrokerHandle(cluster.bootstrap, cluster.admin_settings(), cluster)
    finally:
        cluster.down()
