"""Audit chains through the real broker: a cut tail, a rewrite and a retried send, as
``exchange audit verify`` and the library see them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from support.evidence import attributes, rewrite

from exchange.evidence.chains import verify_anchored
from exchange.evidence.checkpoints import AnchoredTrail, CheckpointPolicy
from exchange.protection.audit import AUDIT_TOPIC, AuditEntry, verify_chains
from exchange.protection.audit_kafka import KafkaAuditSink, audit_producer, read_audit
from exchange.protection.keys import FileKeyStore

pytestmark = pytest.mark.broker
REPO = Path(__file__).resolve().parents[2]


async def write_chain(
    provisioned: Any, keys: FileKeyStore, count: int = 10, every: int = 5
) -> tuple[str, list[dict[str, Any]]]:
    """A police chain of ``count`` records (checkpoints every ``every`` and on close) written
    to exchange.audit by the idempotent audit producer; returns the chain and what was read
    back of it."""
    producer = audit_producer(provisioned.kafka_as("police"))
    await producer.start()
    try:
        trail = AnchoredTrail(KafkaAuditSink(producer), "police", keys,
                              policy=CheckpointPolicy(every_records=every))
        for n in range(count):
            await trail.record("published", attributes("C-chain", n), topic="exchange.rescue",
                               partition=0, offset=n)
        await trail.close()
    finally:
        await producer.stop()
    return trail.chain, await chain_entries(provisioned, trail.chain)


async def chain_entries(provisioned: Any, chain: str, topic: str = AUDIT_TOPIC,
                        partitions: int = 3) -> list[dict[str, Any]]:
    admin = provisioned.broker.admin
    settings = provisioned.kafka_as("operators") if topic == AUDIT_TOPIC else admin
    entries = await read_audit(settings, partitions, topic=topic)
    return [e.record for e in entries if e.record.get("chain") == chain]


async def copy_to_scratch(provisioned: Any, unique: Any, records: list[dict[str, Any]]) -> str:
    """``records`` written to a new topic, as a restore from a doctored copy would be."""
    name = unique("audit-copy")
    admin = KafkaAdminClient(**provisioned.broker.admin.kafka_python_kwargs())
    try:
        admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        admin.close()
    producer = AIOKafkaProducer(**provisioned.broker.admin.aiokafka_kwargs(), acks="all")
    await producer.start()
    try:
        for record in records:
            await producer.send_and_wait(name, json.dumps(record).encode(),
                                         key=str(record["chain"]).encode())
    finally:
        await producer.stop()
    return name


def entries(records: list[dict[str, Any]]) -> list[AuditEntry]:
    return [AuditEntry(r, 0, i) for i, r in enumerate(records)]


@pytest.fixture
def keys(tmp_path: Path) -> FileKeyStore:
    store = FileKeyStore(tmp_path / "keys")
    store.init(["police"])
    return store


async def test_a_chain_cut_after_its_checkpoint_is_truncated(provisioned, keys, unique) -> None:
    chain, records = await write_chain(provisioned, keys)
    assert verify_anchored(entries(records), keys).ok
    checkpoints = [r for r in records if r.get("kind") == "checkpoint"]
    assert [c["seq"] for c in checkpoints] == [4, 9]
    # A restore that lost the newest records (and the checkpoint with them): only the
    # notary's copy of the last checkpoint still knows seq 9.
    kept = [r for r in records if r.get("kind") != "checkpoint" and r["seq"] < 7]
    scratch = await copy_to_scratch(provisioned, unique, [*kept[:5], checkpoints[0], *kept[5:]])
    restored = await chain_entries(provisioned, chain, scratch, 1)
    assert verify_chains(entries(restored)).ok  # the hash chain alone cannot tell
    assert verify_anchored(entries(restored), keys).ok  # nor the checkpoints left in it
    report = verify_anchored(entries(restored), keys, notarised=checkpoints)
    assert [(f.kind, f.seq) for f in report.breaks] == [("truncated", 7)]


async def test_a_rewritten_and_rehashed_chain_is_found(provisioned, keys, unique) -> None:
    chain, records = await write_chain(provisioned, keys)
    forged = rewrite(records, 6, topic="exchange.elsewhere", case="C-other")
    scratch = await copy_to_scratch(provisioned, unique, forged)
    restored = await chain_entries(provisioned, chain, scratch, 1)
    assert verify_chains(entries(restored)).ok
    report = verify_anchored(entries(restored), keys)
    assert [(f.kind, f.seq) for f in report.breaks] == [("rewritten", 9)]


async def test_a_retried_send_is_a_duplicate_not_a_break(provisioned, keys) -> None:
    """A producer without idempotence that retries a send whose acknowledgement was lost
    writes the record twice; verify names it a duplicate and the chain stays intact."""
    producer = AIOKafkaProducer(**provisioned.kafka_as("police").aiokafka_kwargs(), acks=1,
                                enable_idempotence=False)
    await producer.start()

    class RetryingSink:
        async def write(self, key: bytes, value: bytes) -> None:
            for _attempt in range(2):  # the first ack "lost": the same bytes sent again
                await producer.send_and_wait(AUDIT_TOPIC, value, key=key)

    try:
        trail = AnchoredTrail(RetryingSink(), "police", keys,
                              policy=CheckpointPolicy(every_records=100))
        for n in range(3):
            await trail.record("published", attributes("C-dup", n), topic="exchange.rescue",
                               partition=0, offset=n)
        await trail.close()
    finally:
        await producer.stop()
    records = await chain_entries(provisioned, trail.chain)
    assert len(records) == 8  # 3 records and a checkpoint, each twice
    assert not verify_chains(entries(records)).ok  # the old check called it a break
    report = verify_anchored(entries(records), keys)
    assert report.ok, report.findings
    assert [f.seq for f in report.of("duplicate")] == [0, 1, 2]


async def test_the_audit_producer_is_idempotent_with_acks_all(provisioned) -> None:
    producer = audit_producer(provisioned.kafka_as("police"))
    await producer.start()
    try:
        assert producer._txn_manager is not None  # aiokafka keeps it only with idempotence
        assert producer._txn_manager.producer_id >= 0  # the broker gave it a producer id
        assert producer._sender._acks == -1
    finally:
        await producer.stop()


async def test_audit_verify_reports_a_cut_tail_whose_checkpoint_survived(
    provisioned, tmp_path: Path
) -> None:
    """Records lost on their way to the topic (an unclean leader election) while the signed
    checkpoint got through: `exchange audit verify` names the cut."""
    state = provisioned.credentials.directory.parent
    keys = FileKeyStore(state / "keys")
    keys.init(["police"])
    producer = audit_producer(provisioned.kafka_as("police"))
    await producer.start()
    sink = KafkaAuditSink(producer)

    class LossySink:
        async def write(self, key: bytes, value: bytes) -> None:
            record = json.loads(value)
            if record.get("kind") == "checkpoint" or record["seq"] < 7:
                await sink.write(key, value)

    try:
        trail = AnchoredTrail(LossySink(), "police", keys,
                              policy=CheckpointPolicy(every_records=100))
        for n in range(10):
            await trail.record("published", attributes(f"C-{uuid.uuid4().hex[:6]}", n),
                               topic="exchange.rescue", partition=0, offset=n)
        await trail.close()
    finally:
        await producer.stop()
    verified = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "exchange.cli.main", "audit", "verify"],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
        env={**os.environ, "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
             "EXCHANGE_STATE_DIR": str(state)},
    )
    assert verified.returncode == 1, verified.stdout + verified.stderr
    mine = [line for line in verified.stdout.splitlines() if trail.chain in line]
    assert mine == [
        f"BROKEN truncated {trail.chain} at seq 7: checkpoint of {trail.checkpoints[0]['at']} "
        "signs seq 9, records 7..9 are missing"
    ]
