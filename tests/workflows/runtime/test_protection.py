"""The worker's protected mode without a broker: state sealing, sealed tables, sealed outputs.

(The whole mode against the real broker: ``test_worker_protected_broker.py``.)
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from exchange.codec import EventCodec
from exchange.examples import example
from exchange.protection.audit import AuditTrail
from exchange.protection.entitlements import load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import SIG_HEADER, Verifier
from exchange.topology.loader import load_topology
from exchange.topology.model import Topology
from exchange.workflows.runtime import Incoming
from exchange.workflows.runtime.protection import (
    STATE_PREFIX,
    SealedTable,
    StateOpenError,
    StateSealer,
    WorkerProtection,
)

SECRET = b'{"name": "CanaryStateName"}'


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology()


@pytest.fixture
def keys(tmp_path: Path, topology: Topology) -> FileKeyStore:
    store = FileKeyStore(tmp_path / "keys")
    store.init([a.id for a in topology.agencies])
    return store


def protected(codec: EventCodec, keys: FileKeyStore, topology: Topology,
              agency: str) -> ProtectedCodec:
    verifier = Verifier(keys, writers_of=lambda t: topology.topic(t).writers)
    return ProtectedCodec(codec, keys, load_entitlements(topology=topology), agency=agency,
                          verifier=verifier)


def test_a_sealed_value_opens_only_in_its_table_and_key(keys: FileKeyStore) -> None:
    sealer = StateSealer(keys)
    sealed = sealer.seal("open-cases", "A1", SECRET)
    assert sealed.startswith(STATE_PREFIX)
    assert b"CanaryStateName" not in sealed
    assert sealer.open("open-cases", "A1", sealed) == SECRET
    with pytest.raises(StateOpenError, match="moved"):
        sealer.open("open-cases", "A2", sealed)  # moved to another key
    with pytest.raises(StateOpenError, match="moved"):
        sealer.open("alerts", "A1", sealed)
    altered = bytearray(sealed)
    altered[-1] ^= 1
    with pytest.raises(StateOpenError, match="altered"):
        sealer.open("open-cases", "A1", bytes(altered))


def test_values_sealed_before_a_key_rotation_still_open(keys: FileKeyStore) -> None:
    old = StateSealer(keys).seal("tips", "T1", SECRET)
    keys.rotate("workflows", "enc")
    rotated = StateSealer(keys)
    assert rotated.key_id == "workflows.enc.2"
    new = rotated.seal("tips", "T1", SECRET)
    assert b"workflows.enc.2" in new
    assert rotated.open("tips", "T1", old) == SECRET
    assert rotated.open("tips", "T1", new) == SECRET


def test_a_value_left_by_an_unprotected_worker_is_read_as_it_is(keys: FileKeyStore) -> None:
    assert StateSealer(keys).open("tips", "T1", SECRET) == SECRET


def test_a_sealed_table_keeps_only_ciphertext(keys: FileKeyStore) -> None:
    inner: dict[str, bytes | None] = {}
    table = SealedTable(inner, "open-cases", StateSealer(keys))
    table["A1"] = SECRET
    table["A2"] = b"second"
    assert all(b"CanaryStateName" not in v for v in inner.values() if v)
    assert table.get("A1") == SECRET
    assert table["A2"] == b"second"
    assert table.get("missing") is None
    assert dict(table.items()) == {"A1": SECRET, "A2": b"second"}
    assert sorted(table.values(), key=len) == [b"second", SECRET]  # type: ignore[arg-type]
    assert "A1" in table
    assert len(table) == 2
    del table["A1"]
    assert list(table) == ["A2"]
    assert list(table.keys()) == ["A2"]
    assert table.copy() == inner  # anything else is the inner table's


class ListSink:
    def __init__(self) -> None:
        self.records: list[dict[str, object]] = []

    async def write(self, key: bytes, value: bytes) -> None:
        self.records.append(json.loads(value))


def test_outputs_are_sealed_for_the_topic_readers_signed_and_audited(
    codec: EventCodec, keys: FileKeyStore, topology: Topology
) -> None:
    worker = WorkerProtection(protected(codec, keys, topology, "workflows"), keys, topology)
    sink = ListSink()
    worker.audit = AuditTrail(sink, "workflows")
    match = example("candidate-match")
    plain = codec.encode(match, source="/agencies/workflows/matching", id="M-1")
    topic = "exchange.match.to.police"
    sealed = worker.encoder.encode(
        match, topic=topic, source="/agencies/workflows/matching", id="M-1"
    )
    asyncio.run(worker.routed(sealed, topic))
    key, value, headers = sealed.key, sealed.value, sealed.headers
    assert value != plain.value  # the location is sealed
    assert dict(headers)[SIG_HEADER].startswith(b"workflows.sig.")
    opened = protected(codec, keys, topology, "police").decode(key, value, headers, (topic, 0, 0))
    assert opened.signer == "workflows"
    assert opened.decoded.event == match
    assert opened.decoded.attributes.id == "M-1"
    outsider = protected(codec, keys, topology, "transport").decode(
        key, value, headers, (topic, 0, 1)
    )
    assert "sightingLocation.lat" in outsider.protected
    [routed] = sink.records
    assert (routed["action"], routed["topic"], routed["event_id"]) == ("routed", topic, "M-1")


def test_the_worker_acts_as_workflows_only(
    codec: EventCodec, keys: FileKeyStore, topology: Topology
) -> None:
    with pytest.raises(ValueError, match="workflows"):
        WorkerProtection(protected(codec, keys, topology, "police"), keys, topology)


def test_a_sighting_read_back_is_verified_and_opened_without_side_effects(
    codec: EventCodec, keys: FileKeyStore, topology: Topology
) -> None:
    """``peek`` (the matching workflow's look-back for a new case): the event when it verifies,
    None when not; it needs no quarantine, so it cannot write one."""
    worker = WorkerProtection(protected(codec, keys, topology, "workflows"), keys, topology)
    topic = "exchange.sighting"
    sighting = example("transport-sighting")
    sent = protected(codec, keys, topology, "railway-police").encode(
        sighting, source="/agencies/railway-police/test", id="S-1",
        readers=tuple(topology.topic(topic).readers),
    )
    record = Incoming(topic, 0, 7, sent.key, sent.value, list(sent.headers))
    for _ in range(2):  # read back twice at its own position: not a replay
        peeked = worker.peek(record)
        assert peeked is not None
        assert peeked.event == sighting
    tampered = record._replace(value=sent.value[:-1] + bytes([sent.value[-1] ^ 1]))
    assert worker.peek(tampered) is None
    unsigned = codec.encode(sighting, source="/agencies/railway-police/test", id="S-2")
    assert worker.peek(Incoming(topic, 0, 8, unsigned.key, unsigned.value,
                                list(unsigned.headers))) is None


async def test_the_worker_holds_its_next_input_while_the_policy_fails_closed(
    codec: EventCodec, keys: FileKeyStore, topology: Topology
) -> None:
    """A checkpoint unanchored past the limit: the next input waits (not refused, not lost)
    until an anchor covers the checkpoint; the gauge says so meanwhile."""
    from prometheus_client import CollectorRegistry  # noqa: PLC0415

    from exchange.evidence.guard import AuditGuard  # noqa: PLC0415
    from exchange.evidence.metrics import EvidenceMetrics  # noqa: PLC0415
    from exchange.settings import FailClosedPolicy  # noqa: PLC0415

    now = [1000.0]
    registry = CollectorRegistry()
    guard = AuditGuard("workflows", FailClosedPolicy(max_unanchored_seconds=10),
                       EvidenceMetrics.on(registry), clock=lambda: now[0])
    worker = WorkerProtection(protected(codec, keys, topology, "workflows"), keys, topology)
    worker.guard = guard
    await worker._admitted()  # nothing pending: admitted at once
    guard.checkpointed(41)
    now[0] += 11  # its anchor is late
    worker._guard_checked = 0.0
    held = asyncio.create_task(worker._admitted())
    await asyncio.sleep(0.3)
    assert not held.done()
    assert registry.get_sample_value("exchange_audit_fail_closed", {"agency": "workflows"}) == 1
    assert registry.get_sample_value("exchange_audit_refused_total", {"agency": "workflows"}) == 1
    guard.anchored(41)  # the notary's anchor came
    await asyncio.wait_for(held, 3)
    assert registry.get_sample_value("exchange_audit_fail_closed", {"agency": "workflows"}) == 0
