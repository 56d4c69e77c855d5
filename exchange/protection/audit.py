"""The audit trail: every exchange recorded in ``exchange.audit``, chained by hash.

Each process that publishes or consumes keeps its own *chain* (``<agency>/<random id>``, the
record key, so one chain stays in order on one partition). A record is UTF-8 JSON
(``content-type: application/json``; an internal log, not an exchange event)::

    {"chain": "transport/4f1c...", "seq": 12, "prev": "<hash of seq 11>", "at": "...Z",
     "agency": "transport", "action": "published", "topic": "exchange.sighting",
     "partition": 1, "offset": 40, "source": "/agencies/transport/app", "event_id": "...",
     "event_type": "exchange.events.TransportSighting", "case": "<ce_subject>",
     "categories": ["location", "minor"], "detail": "", "hash": "<sha256 hex>"}

``hash`` is SHA-256 over the record's canonical JSON (sorted keys, no ``hash``), and ``prev``
is the previous record's ``hash`` in the same chain (64 zeros for ``seq`` 0). Actions:
``published`` (acknowledged by the broker), ``delivered`` (decoded, verified and handled;
``categories`` are the sensitive categories this agency decrypted, so every access to a
minor's data is recorded), ``quarantined`` (``detail`` is the reason). No personal data is
written: only the case key, ids and categories.

:func:`verify_chains` finds the first broken link of each chain (edited, removed or reordered
records); :func:`case_history` lists who received what about a case and when. Records of
``kind`` ``checkpoint`` are signed chain heads, not links: :mod:`exchange.evidence` writes and
checks them (truncation, rewriting, gaps and duplicates included).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from exchange.codec import CloudEventAttributes
from exchange.protection.exceptions import AuditChainError

AUDIT_TOPIC = "exchange.audit"
GENESIS = "0" * 64
CONTENT_TYPE = b"application/json"
CHECKPOINT_KIND = "checkpoint"
"""``kind`` of a record that signs a chain's head (:mod:`exchange.evidence.checkpoints`)."""


class AuditSink(Protocol):
    """Where audit records go (an aiokafka producer fits through :class:`KafkaAuditSink`)."""

    async def write(self, key: bytes, value: bytes) -> None: ...


def record_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditTrail:
    """One chain of audit records, written by one process as ``agency``.

    Safe to share between concurrent tasks (the faust worker's agents): records are numbered,
    chained and handed to the sink one at a time, so the chain's order on the topic is its
    ``seq`` order."""

    def __init__(self, sink: AuditSink, agency: str, *, chain: str | None = None) -> None:
        self.sink = sink
        self.agency = agency
        self.chain = chain or f"{agency}/{uuid.uuid4().hex}"
        self._key = self.chain.encode()
        self._seq = 0
        self._prev = GENESIS
        self._lock = asyncio.Lock()

    @property
    def head(self) -> tuple[int, str]:
        """The last record's ``seq`` and ``hash`` (``(-1, GENESIS)`` before the first)."""
        return self._seq - 1, self._prev

    @property
    def lock(self) -> asyncio.Lock:
        """Held while a record is numbered and written (a checkpoint takes it too)."""
        return self._lock

    async def record(
        self,
        action: str,
        attributes: CloudEventAttributes,
        *,
        topic: str,
        partition: int,
        offset: int,
        categories: Iterable[str] = (),
        detail: str = "",
    ) -> dict[str, Any]:
        async with self._lock:
            return await self._append(
                action, attributes, topic=topic, partition=partition, offset=offset,
                categories=categories, detail=detail,
            )

    async def _append(
        self, action: str, attributes: CloudEventAttributes, *, topic: str, partition: int,
        offset: int, categories: Iterable[str], detail: str,
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "chain": self.chain,
            "seq": self._seq,
            "prev": self._prev,
            "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "agency": self.agency,
            "action": action,
            "topic": topic,
            "partition": partition,
            "offset": offset,
            "source": attributes.source,
            "event_id": attributes.id,
            "event_type": attributes.type,
            "case": attributes.subject or "",
            "categories": sorted(categories),
            "detail": detail,
        }
        record["hash"] = record_hash(record)
        await self.sink.write(self._key, json.dumps(record, ensure_ascii=False).encode())
        self._seq += 1
        self._prev = record["hash"]
        return record


@dataclass(frozen=True)
class AuditEntry:
    """A record read back from the topic, with where it was read."""

    record: dict[str, Any]
    partition: int
    offset: int


@dataclass(frozen=True)
class ChainReport:
    chains: int
    records: int
    broken: tuple[AuditChainError, ...]

    @property
    def ok(self) -> bool:
        return not self.broken


def parse_entry(value: bytes | None, partition: int, offset: int) -> AuditEntry:
    try:
        record = json.loads(value or b"")
    except ValueError as error:
        record = str(error)
    if not isinstance(record, dict):
        record = {"chain": f"<unreadable {partition}@{offset}>", "seq": -1, "error": str(record)}
    return AuditEntry(record, partition, offset)


def verify_chains(entries: Iterable[AuditEntry]) -> ChainReport:
    """Check every chain in read order; report the first broken link of each broken chain."""
    state: dict[str, tuple[int, str]] = {}
    broken: dict[str, AuditChainError] = {}
    count = 0
    for entry in entries:
        count += 1
        record = entry.record
        chain = str(record.get("chain"))
        if record.get("kind") == CHECKPOINT_KIND:  # a signed head (exchange.evidence)
            continue
        if chain in broken:
            continue
        seq, prev = state.get(chain, (0, GENESIS))
        where = f"(partition {entry.partition}, offset {entry.offset})"
        problem = None
        if "error" in record:
            problem = f"record is not JSON {where}: {record['error']}"
        elif record.get("seq") != seq:
            problem = f"expected seq {seq}, found {record.get('seq')} {where}: a record is missing"
        elif record.get("prev") != prev:
            problem = f"prev does not match the hash of seq {seq - 1} {where}"
        elif record.get("hash") != record_hash(record):
            problem = f"hash does not match the record's content {where}: it was altered"
        if problem is not None:
            broken[chain] = AuditChainError(chain, seq, problem)
            continue
        state[chain] = (seq + 1, str(record["hash"]))
    return ChainReport(len(state) + len(set(broken) - set(state)), count, tuple(broken.values()))


def case_history(entries: Iterable[AuditEntry], case: str) -> list[dict[str, Any]]:
    """Who published, received or quarantined what about ``case``, in time order."""
    found = [
        e.record for e in entries
        if e.record.get("case") == case and e.record.get("kind") != CHECKPOINT_KIND
    ]
    return sorted(found, key=lambda r: (str(r.get("at")), str(r.get("chain")), r.get("seq", 0)))
