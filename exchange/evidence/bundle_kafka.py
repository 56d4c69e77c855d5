"""Gather a case's :class:`~exchange.evidence.bundle.Disclosure` from the bus.

Reads ``exchange.audit`` and ``exchange.notary`` (as the joint-meeting office or operators), and
the case's published events where they lie (as whoever the exporter may read them as). For each
chain that recorded the case it keeps the records from the first about the case to the first
anchored checkpoint after the last one; a chain whose last records are not anchored yet cannot
be exported (run the notary, or wait for its next round).
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from exchange.evidence.anchors import ANCHOR_KIND
from exchange.evidence.bundle import Disclosure
from exchange.evidence.checkpoints import chain_agency, checkpoint_problem
from exchange.evidence.exceptions import BundleError
from exchange.evidence.guard import NOTARY_TOPIC
from exchange.protection.audit import AUDIT_TOPIC, CHECKPOINT_KIND, AuditEntry
from exchange.protection.audit_kafka import read_audit
from exchange.protection.keys import FileKeyStore
from exchange.settings import KafkaSettings

Position = tuple[str, int, int]


def select(
    case: str, audit: list[AuditEntry], anchors: list[dict[str, Any]], keys: FileKeyStore
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The case's chain excerpts, their checkpoints and the anchors holding them."""
    by_chain: dict[str, dict[int, dict[str, Any]]] = {}
    for entry in audit:
        record = entry.record
        if record.get("kind") != CHECKPOINT_KIND and "error" not in record:
            by_chain.setdefault(str(record.get("chain")), {}).setdefault(int(record["seq"]), record)
    anchored: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for anchor in anchors:
        for checkpoint in anchor.get("checkpoints", []):
            anchored.setdefault(str(checkpoint.get("signature")), (checkpoint, anchor))
    chains: dict[str, list[dict[str, Any]]] = {}
    checkpoints: list[dict[str, Any]] = []
    used: list[dict[str, Any]] = []
    for chain, records in sorted(by_chain.items()):
        about = [seq for seq, r in records.items() if r.get("case") == case]
        if not about:
            continue
        candidates = [
            (c, a) for c, a in anchored.values()
            if c.get("chain") == chain and int(c["seq"]) >= max(about)
            and checkpoint_problem(keys, c) is None
        ]
        if not candidates:
            raise BundleError(
                "checkpoints.json",
                f"{chain}: no time-stamped checkpoint covers seq {max(about)} yet; run "
                "`exchange notary` (or wait for its next round) and export again",
            )
        checkpoint, anchor = min(candidates, key=lambda pair: int(pair[0]["seq"]))
        end = int(checkpoint["seq"])
        chains[chain] = [records[s] for s in range(min(about), end + 1) if s in records]
        checkpoints.append(checkpoint)
        if anchor not in used:
            used.append(anchor)
    if not chains:
        raise BundleError("records.json", f"no audit record names case {case!r}")
    return chains, checkpoints, used


async def read_events(settings: KafkaSettings, positions: list[Position],
                      timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """The records at ``positions`` (key, value, headers in base64), those readable as
    ``settings``; a position the principal may not read is left out."""
    found: list[dict[str, Any]] = []
    consumer = AIOKafkaConsumer(**settings.aiokafka_kwargs(), group_id=None,
                                enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    try:
        for topic, partition, offset in positions:
            tp = TopicPartition(topic, partition)
            try:
                consumer.assign([tp])
                consumer.seek(tp, offset)
                async with asyncio.timeout(timeout_s):
                    batch = await consumer.getmany(tp, timeout_ms=1000, max_records=1)
            except (KafkaError, TimeoutError):
                continue
            for record in batch.get(tp, []):
                if record.offset == offset:
                    found.append({
                        "topic": topic, "partition": partition, "offset": offset,
                        "key": base64.b64encode(record.key).decode() if record.key else None,
                        "value": base64.b64encode(record.value or b"").decode(),
                        "headers": [[k, base64.b64encode(v).decode()] for k, v in record.headers],
                    })
    finally:
        await consumer.stop()
    return found


async def gather(
    case: str, *, audit_settings: KafkaSettings, event_settings: KafkaSettings | None,
    keys: FileKeyStore, tsa_folder: Path, audit_partitions: int = 3,
    notary_partitions: int = 3, audit_topic: str = AUDIT_TOPIC, notary_topic: str = NOTARY_TOPIC,
) -> Disclosure:
    audit = await read_audit(audit_settings, audit_partitions, topic=audit_topic)
    anchors = [
        e.record for e in await read_audit(audit_settings, notary_partitions, topic=notary_topic)
        if e.record.get("kind") == ANCHOR_KIND
    ]
    chains, checkpoints, used = select(case, audit, anchors, keys)
    positions = sorted({
        (str(r["topic"]), int(r["partition"]), int(r["offset"]))
        for records in chains.values() for r in records
        if r.get("case") == case and r.get("action") == "published" and int(r["offset"]) >= 0
    })
    events = [] if event_settings is None else await read_events(event_settings, positions)
    agencies = {chain_agency(c) for c in chains}
    public = {
        a: (keys.public_dir / f"{a}.json").read_bytes()
        for a in sorted(agencies) if (keys.public_dir / f"{a}.json").exists()
    }
    return Disclosure(
        case, chains, checkpoints, used, events, public,
        tsa_ca=(tsa_folder / "ca.pem").read_bytes(),
        tsa_cert=(tsa_folder / "tsa.pem").read_bytes() if (tsa_folder / "tsa.pem").exists()
        else b"",
    )
