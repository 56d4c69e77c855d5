"""Looking for what data protection must (or must not) leave behind: quarantined records and
plaintext on disk. Shared by the protection tests of the client and of the worker."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import RecordMetadata

from exchange.codec import EventCodec
from exchange.protection.entitlements import load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier
from exchange.topology.model import Topology

Origin = tuple[str, int, int]
"""Where a quarantined record came from: topic, partition, offset."""


async def quarantine_reasons(provisioned: Any, agency: str) -> dict[Origin, str]:
    """Every record in ``agency``'s quarantine topic, by origin, with its reason (read to the
    end as ``operators``; other tests' records are there too: callers pick theirs)."""
    consumer = AIOKafkaConsumer(**provisioned.kafka_as("operators").aiokafka_kwargs(),
                                group_id=None, enable_auto_commit=False)
    await consumer.start()
    found: dict[Origin, str] = {}
    try:
        name = f"exchange.quarantine.{agency}"
        tps = [TopicPartition(name, p)
               for p in range(provisioned.topology.topic(name).partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    headers = {k: v.decode(errors="replace") for k, v in record.headers}
                    origin = (headers["exchange.original.topic"],
                              int(headers["exchange.original.partition"]),
                              int(headers["exchange.original.offset"]))
                    found[origin] = headers["exchange.error.reason"]
    finally:
        await consumer.stop()
    return found


def files_containing(roots: list[Path], needle: bytes) -> list[Path]:
    """The files under ``roots`` whose bytes contain ``needle``."""
    return [
        file for root in roots for file in root.rglob("*")
        if file.is_file() and needle in file.read_bytes()
    ]


def protection_in(
    folder: Path, topology: Topology, codec: EventCodec
) -> Callable[[str], ProtectedCodec]:
    """Every agency's protected codec over keys made in ``folder`` (for a test with a broker
    of its own; the session's broker has ``provisioned.protection_for``)."""
    keys = FileKeyStore(folder)
    keys.init([a.id for a in topology.agencies])
    keys.reload()
    entitlements = load_entitlements(topology=topology)

    def protection_for(agency: str) -> ProtectedCodec:
        verifier = Verifier(keys, writers_of=lambda topic: topology.topic(topic).writers)
        return ProtectedCodec(codec, keys, entitlements, agency=agency, verifier=verifier)

    return protection_for


async def send_signed(
    provisioned: Any, agency: str, topic: str, value: bytes, *, key: bytes
) -> RecordMetadata:
    """``value`` written to ``topic`` as it is, signed by ``agency`` as a real sender signs:
    it passes verification, so a body that is not an event reaches the decoder and is
    dead-lettered (``not-single-object``); unsigned, it would be quarantined before any
    decoding."""
    headers = [("ce_source", f"/agencies/{agency}/test".encode()),
               ("ce_id", uuid.uuid4().hex.encode())]  # fmt: skip
    headers.append(provisioned.protection_for(agency).signer.header(key, value, headers))
    producer = AIOKafkaProducer(**provisioned.kafka_as(agency).aiokafka_kwargs())
    await producer.start()
    try:
        return await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
