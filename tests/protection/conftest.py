"""Key stores and protected codecs for the protection tests (no broker needed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from exchange.codec import EventCodec
from exchange.protection.entitlements import Entitlements, load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier
from exchange.topology.loader import load_topology
from exchange.topology.model import Topology


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology()


@pytest.fixture(scope="session")
def entitlements(topology: Topology) -> Entitlements:
    return load_entitlements(topology=topology)


@pytest.fixture
def keys(tmp_path: Path, topology: Topology) -> FileKeyStore:
    store = FileKeyStore(tmp_path / "keys")
    store.init([a.id for a in topology.agencies])
    return store


@pytest.fixture
def protected_as(
    codec: EventCodec, keys: FileKeyStore, entitlements: Entitlements, topology: Topology
) -> Callable[[str], ProtectedCodec]:
    def make(agency: str) -> ProtectedCodec:
        verifier = Verifier(keys, writers_of=lambda topic: topology.topic(topic).writers)
        return ProtectedCodec(codec, keys, entitlements, agency=agency, verifier=verifier)

    return make
