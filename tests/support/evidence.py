"""Helpers shared by the evidence tests: a sink in memory, attributes, chains to tamper with."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from exchange.codec import CloudEventAttributes
from exchange.protection.audit import AuditEntry, record_hash


class MemorySink:
    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes]] = []

    async def write(self, key: bytes, value: bytes) -> None:
        self.records.append((key, value))

    def entries(self) -> list[AuditEntry]:
        return [AuditEntry(json.loads(v), 0, i) for i, (_k, v) in enumerate(self.records)]


def attributes(case: str, n: int, agency: str = "police") -> CloudEventAttributes:
    return CloudEventAttributes(
        f"id-{n}", f"/agencies/{agency}/x", "exchange.events.Rescue", datetime.now(UTC), case,
        "urn:x", "application/avro", "1.0",
    )


def rewrite(records: list[dict[str, Any]], seq: int, **changes: Any) -> list[dict[str, Any]]:
    """The chain with record ``seq`` changed and every later link rehashed (a consistent
    rewrite: the hash chain alone cannot tell)."""
    out: list[dict[str, Any]] = []
    prev = None
    for record in records:
        if record.get("kind") == "checkpoint":
            out.append(record)
            continue
        copy = dict(record)
        if copy["seq"] == seq:
            copy.update(changes)
        if prev is not None:
            copy["prev"] = prev
        copy["hash"] = record_hash(copy)
        prev = copy["hash"]
        out.append(copy)
    return out


def as_entries(records: list[dict[str, Any]]) -> list[AuditEntry]:
    return [AuditEntry(r, 0, i) for i, r in enumerate(records)]
