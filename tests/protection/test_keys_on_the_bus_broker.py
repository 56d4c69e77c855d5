"""Keys that travel on the bus, against the real broker: two agencies, two separate key folders
(as two hosts), the joint-meeting office's root key in a third, and nothing shared but the bus.

Police (host A) publishes a missing-child report signed and sealed for civil affairs (host B);
B learns A's keys from ``exchange.keys`` only and verifies and opens it. A key certified by
another root is refused and its event quarantined as ``uncertified-key``; rotation keeps old
events verifiable and openable; a revoked key is refused (``revoked-key``).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import TopicAuthorizationFailedError
from prometheus_client import CollectorRegistry
from support.keys import SOURCE, Host, Position, publish, read_at, report
from support.protection import quarantine_reasons

from exchange.codec import EncodedEvent, EventCodec
from exchange.metrics import BusMetrics
from exchange.protection.certificates import RootKey, certify
from exchange.protection.exceptions import VerificationError
from exchange.protection.key_bus import (
    KEYS_TOPIC,
    certify_requests,
    request_certification,
    revoke_key,
    send,
)
from exchange.protection.keys import FileKeyStore, KeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.quarantine import Quarantine
from exchange.protection.signing import SIG_HEADER, Signer

pytestmark = pytest.mark.broker

async def test_two_hosts_learn_each_others_keys_from_the_bus_only(
    provisioned: Any, codec: EventCodec, tmp_path: Path
) -> None:
    root = RootKey.create(tmp_path / "office" / "keys" / "root")
    office = provisioned.kafka_as("joint-meeting-office")
    police = Host(provisioned, codec, "police", tmp_path / "host-a" / "keys", root.fingerprint)
    civil = Host(provisioned, codec, "civil-affairs", tmp_path / "host-b" / "keys",
                 root.fingerprint)
    # Each host holds only its own private keys.
    assert sorted(p.name for p in (tmp_path / "host-a" / "keys" / "private").iterdir()) == [
        "police.enc.1", "police.sig.1"]
    assert not list((tmp_path / "host-b" / "keys").rglob("police*"))
    await certify_both(police, civil, office, root)
    await police.follower.start()
    await civil.follower.start()
    try:
        tag = uuid.uuid4().hex[:8]
        old_position = await signed_and_sealed_event_opens(police, civil, tag)
        await uncertified_key_is_refused(police, civil, office, tmp_path, tag)
        new_position = await rotation_keeps_old_events(police, civil, office, root, tag=tag,
                                                       old_position=old_position)
        await revoked_key_is_refused(civil, office, root, old_position, new_position)
    finally:
        await police.follower.stop()
        await civil.follower.stop()


async def certify_both(police: Host, civil: Host, office: Any, root: RootKey) -> None:
    """Agencies ask on their own request topics; only the office may write exchange.keys."""
    await request_certification(police.kafka, police.store, "police")
    await request_certification(civil.kafka, civil.store, "civil-affairs")
    with pytest.raises(TopicAuthorizationFailedError):
        await send(police.kafka, KEYS_TOPIC,
                   [(b"police.sig.1", certify(police.store.info("police.sig.1"), root,
                                              issued=_now()))])
    # `only`: other tests' hosts asked for police keys on the same request topic before.
    first = ["civil-affairs.enc.1", "civil-affairs.sig.1", "police.enc.1", "police.sig.1"]
    done = await certify_requests(office, root, ["police", "civil-affairs"], only=first)
    assert sorted(k.key_id for k in done.certified) == first
    again = await certify_requests(office, root, ["police"], only=first)
    assert again.certified == []
    assert sorted(again.already) == ["police.enc.1", "police.sig.1"]


async def signed_and_sealed_event_opens(police: Host, civil: Host, tag: str) -> Position:
    """A publishes signed and sealed; B verifies and opens it with keys learned from the bus."""
    first = police.protected().encode(report(tag), source=SOURCE, readers=["civil-affairs"])
    assert dict(first.headers)[SIG_HEADER].startswith(b"police.sig.1:")
    assert f"Name{tag}".encode() not in first.value
    position = await publish(police, first)
    record = await read_at(civil.kafka, position)
    opened = civil.protected().decode(record.key, record.value, record.headers, position)
    assert opened.signer == "police"
    assert opened.decoded.event.missingPerson.name == f"Name{tag}"
    return position


async def uncertified_key_is_refused(
    police: Host, civil: Host, office: Any, tmp_path: Path, tag: str
) -> None:
    """A key certified by another root is refused; its event is quarantined with the reason."""
    rogue_root = RootKey.create(tmp_path / "rogue-root")
    rogue = FileKeyStore(tmp_path / "rogue")
    rogue.init(["police"])
    for _ in range(4):
        rogue.rotate("police", "sig")  # police.sig.5: a key id nobody certified
    forged_key = rogue.active("police", "sig")
    await send(office, KEYS_TOPIC,  # e.g. the office's bus password stolen, not its root key
               [(forged_key.key_id.encode(), certify(forged_key, rogue_root, issued=_now()))])
    forged = resign(police.protected().encode(report(tag + "f"), source=SOURCE,
                                              readers=["civil-affairs"]), rogue)
    position = await publish(police, forged)
    for _ in range(100):  # until B's follower has read (and refused) the rogue certificate
        if forged_key.key_id in civil.keyring.refused():
            break
        await asyncio.sleep(0.05)
    assert "untrusted-root" in civil.keyring.refused()[forged_key.key_id]
    record = await read_at(civil.kafka, position)
    reader = civil.protected()
    with pytest.raises(VerificationError, match="untrusted-root") as refused:
        reader.decode(record.key, record.value, record.headers, position)
    assert refused.value.reason == "uncertified-key"
    await quarantine(civil, reader, record)
    assert (await quarantine_reasons(civil.provisioned, "civil-affairs"))[position] == (
        "uncertified-key")


async def rotation_keeps_old_events(
    police: Host, civil: Host, office: Any, root: RootKey, *, tag: str, old_position: Position
) -> Position:
    """Police signs with a new key, civil affairs opens with a new one; the event signed and
    sealed with the old keys still verifies and opens."""
    police.store.rotate("police", "sig")
    civil.store.rotate("civil-affairs", "enc")
    await request_certification(police.kafka, police.store, "police", ["police.sig.2"])
    await request_certification(civil.kafka, civil.store, "civil-affairs",
                                ["civil-affairs.enc.2"])
    rotated = ["civil-affairs.enc.2", "police.sig.2"]
    done = await certify_requests(office, root, ["police", "civil-affairs"], only=rotated)
    assert sorted(k.key_id for k in done.certified) == rotated
    assert await police.follower.wait_for("civil-affairs.enc.2")
    assert await civil.follower.wait_for("police.sig.2")
    assert civil.keyring.info("police.sig.1").status == "retired"
    second = police.protected().encode(report(tag + "r"), source=SOURCE,
                                       readers=["civil-affairs"])
    assert dict(second.headers)[SIG_HEADER].startswith(b"police.sig.2:")
    assert b"civil-affairs.enc.2" in dict(second.headers)["exchange.sealed"]
    new_position = await publish(police, second)
    reader = civil.protected()
    for position, name in ((old_position, f"Name{tag}"), (new_position, f"Name{tag}r")):
        record = await read_at(civil.kafka, position)
        opened = reader.decode(record.key, record.value, record.headers, position)
        assert opened.decoded.event.missingPerson.name == name
    return new_position


async def revoked_key_is_refused(
    civil: Host, office: Any, root: RootKey, old_position: Position, new_position: Position
) -> None:
    """The old signing key is refused from now on; events signed with the new one still pass."""
    await revoke_key(office, root, "police.sig.1", "laptop of the case system stolen")
    assert await civil.follower.wait_for("police.sig.1", revoked=True)
    reader = civil.protected()
    record = await read_at(civil.kafka, old_position)
    with pytest.raises(VerificationError) as refused:
        reader.decode(record.key, record.value, record.headers, old_position)
    assert refused.value.reason == "revoked-key"
    await quarantine(civil, reader, record)
    assert (await quarantine_reasons(civil.provisioned, "civil-affairs"))[old_position] == (
        "revoked-key")
    record = await read_at(civil.kafka, new_position)
    assert reader.decode(record.key, record.value, record.headers, new_position).signer == (
        "police")


def resign(encoded: EncodedEvent, keys: KeyStore) -> EncodedEvent:
    """The same record signed with another police key."""
    headers = [(k, v) for k, v in encoded.headers if k != SIG_HEADER]
    headers.append(Signer(keys, "police").header(encoded.key, encoded.value, headers))
    encoded.headers[:] = headers
    return encoded


async def quarantine(host: Host, reader: ProtectedCodec, record: Any) -> None:
    async def write(topic: str, key: bytes | None, value: bytes | None,
                    headers: list[tuple[str, bytes]]) -> None:
        producer = AIOKafkaProducer(**host.kafka.aiokafka_kwargs(), acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
        finally:
            await producer.stop()

    gate = Quarantine(reader, write, BusMetrics(CollectorRegistry()), agency=host.agency,
                      group=f"{host.agency}.keys-test")
    assert await gate.open(record) is None


def _now() -> datetime:
    return datetime.now(UTC)
