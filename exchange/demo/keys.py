"""The demo's keys, made and certified as the README describes, and what protection shows.

Every agency of the demo is a host of its own: its key pairs are made in
``<state>/demo-hosts/<agency>/keys`` (the private halves never leave that folder) and asked for
on its request topic (``exchange keys init`` + ``exchange keys request``); the demo's
joint-meeting office, whose root key is in ``<state>/demo-hosts/joint-meeting-office/keys/root``,
checks the requests and certifies the keys on ``exchange.keys`` (``exchange keys certify``).
Every reader learns the others' public keys from that topic only, trusting the demo's root: the
demo is its own office, so it pins its root for itself and for the worker it starts
(``EXCHANGE_KEYS__PINNED_ROOT``) instead of the one in ``topology/trust.toml``. Made once per
state folder; a later run finds its keys certified and goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import BaseModel

from exchange.codec import EncodedEvent, EventCodec
from exchange.demo.act import KafkaAs
from exchange.protection.certificates import RootKey
from exchange.protection.entitlements import load_entitlements
from exchange.protection.key_bus import (
    KEYS_TOPIC,
    certify_requests,
    read_all,
    request_certification,
)
from exchange.protection.keyring import Keyring
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import SIG_HEADER, Signer, Verifier
from exchange.settings import KafkaSettings
from exchange.topology.model import Topology
from exchange.topology.trust import MigrationPolicy, Trust

OFFICE = "joint-meeting-office"
HOSTS = "demo-hosts"

Certificates = list[tuple[bytes | None, bytes | None]]


@dataclass
class DemoKeys:
    """The demo's agencies' keys and the root that certified them (see the module docs)."""

    topology: Topology
    codec: EventCodec
    hosts: Path
    pinned_root: str
    certificates: Certificates
    personalise: Callable[[BaseModel], BaseModel] = lambda event: event
    """Applied to every event the demo publishes (tests put canary identities in it)."""
    _codecs: dict[str, ProtectedCodec] = field(default_factory=dict)

    def store(self, agency: str) -> FileKeyStore:
        """``agency``'s own key folder (its private keys; public ones come from the bus)."""
        return FileKeyStore(self.hosts / agency / "keys")

    def codec_for(self, agency: str) -> ProtectedCodec:
        """Seal, sign, verify and open as ``agency``, with the keys certified on the bus."""
        found = self._codecs.get(agency)
        if found is None:
            keyring = Keyring(self.pinned_root, self.store(agency))
            for key, value in self.certificates:
                keyring.learn(key, value)
            topology = self.topology
            verifier = Verifier(
                keyring, writers_of=lambda topic: topology.topic(topic).writers,
                migration=MigrationPolicy(Trust(self.pinned_root)),  # unsigned: refused
            )
            found = self._codecs[agency] = ProtectedCodec(
                self.codec, keyring, load_entitlements(topology=topology), agency=agency,
                verifier=verifier,
            )
        return found

    def environment(self, agency: str) -> dict[str, str]:
        """What a process the demo starts as ``agency`` needs to find its keys and the root."""
        return {
            "EXCHANGE_KEYS__FOLDER": str(self.store(agency).root.resolve()),
            "EXCHANGE_KEYS__PINNED_ROOT": self.pinned_root,
        }

    def forged(self, encoded: EncodedEvent, agency: str) -> EncodedEvent:
        """``encoded`` re-signed with a key of ``agency`` that no root certified (as a thief
        of its bus password would sign), in a folder outside every agency's host."""
        rogue = FileKeyStore(self.hosts / "rogue" / "keys")
        if not rogue.keys_of(agency):
            rogue.init([agency])
            for _ in range(8):
                rogue.rotate(agency, "sig")  # <agency>.sig.9: a key id nobody certified
        headers = [(k, v) for k, v in encoded.headers if k != SIG_HEADER]
        headers.append(Signer(rogue, agency).header(encoded.key, encoded.value, headers))
        return EncodedEvent(encoded.key, encoded.value, headers, encoded.attributes)


def key_holders(topology: Topology) -> list[str]:
    """Every agency and system that asks for its keys' certification (has a request topic)."""
    return sorted(
        t.addressed_to for t in topology.topics
        if t.name.startswith("exchange.key-request.") and t.addressed_to
    )  # fmt: skip


async def certify_demo_keys(
    topology: Topology, kafka_as: KafkaAs, codec: EventCodec, state_dir: Path
) -> DemoKeys:
    """Make (once) every agency's keys and the office's root, certify on the bus what is not
    certified yet, and say so."""
    hosts = state_dir / HOSTS
    root_dir = hosts / OFFICE / "keys" / "root"
    root = RootKey.load(root_dir) if root_dir.exists() else RootKey.create(root_dir)
    agencies = key_holders(topology)
    made = 0
    for agency in agencies:
        store = FileKeyStore(hosts / agency / "keys")
        if not store.keys_of(agency):
            made += len(store.init([agency]))
    office = kafka_as(topology.principal_of(OFFICE))
    keys = DemoKeys(topology, codec, hosts, root.fingerprint, await read_all(office, KEYS_TOPIC))
    wanted = {
        a: [k.key_id for k in keys.store(a).keys_of(a) if k.status != "revoked"] for a in agencies
    }
    missing = {a: ids for a, ids in wanted.items() if not _certified(keys, a, ids)}
    print(f"\n-- 0. Keys: {len(agencies)} agencies each hold their own keys "
          f"({made} key pairs made now); the joint-meeting office's root {root.fingerprint[:23]}…")
    if missing:
        await asyncio.gather(*(
            request_certification(kafka_as(topology.principal_of(a)), keys.store(a), a, ids)
            for a, ids in missing.items()
        ))  # fmt: skip
        only = [key_id for ids in missing.values() for key_id in ids]
        report = await certify_requests(office, root, list(missing), only=only)
        for refusal in report.refused:
            print(f"  REFUSED {refusal}")
        print(f"  {len(missing)} agencies asked on their request topics; the office checked "
              f"each request's proof of possession and certified {len(report.certified)} "
              f"key(s) on {KEYS_TOPIC}")
        keys.certificates = await read_all(office, KEYS_TOPIC)
    else:
        print(f"  every agency's keys are certified on {KEYS_TOPIC} already")
    return keys


def _certified(keys: DemoKeys, agency: str, key_ids: list[str]) -> bool:
    keyring = Keyring(keys.pinned_root)
    for key, value in keys.certificates:
        keyring.learn(key, value)
    known = {c.key_id: c.public for c in keyring.certificates()}
    store = keys.store(agency)
    return bool(key_ids) and all(known.get(k) == store.info(k).public for k in key_ids)


async def read_at(kafka: KafkaSettings, topic: str, partition: int, offset: int) -> ConsumerRecord:
    """The record at ``topic[partition]@offset`` as the principal of ``kafka`` reads it."""
    consumer = AIOKafkaConsumer(**kafka.aiokafka_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        return await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
