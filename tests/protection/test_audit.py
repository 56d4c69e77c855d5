"""The audit chain: intact chains verify; an edited, removed or inserted record is found."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from exchange.codec import CloudEventAttributes
from exchange.protection.audit import (
    AuditEntry,
    AuditTrail,
    case_history,
    record_hash,
    verify_chains,
)


class MemorySink:
    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes]] = []

    async def write(self, key: bytes, value: bytes) -> None:
        self.records.append((key, value))


def attributes(case: str, n: int) -> CloudEventAttributes:
    return CloudEventAttributes(
        f"id-{n}",
        "/agencies/police/x",
        "exchange.events.Rescue",
        datetime.now(UTC),
        case,
        "urn:x",
        "application/avro",
        "1.0",
    )


async def trail_entries(count: int = 5) -> list[AuditEntry]:
    sink = MemorySink()
    police = AuditTrail(sink, "police")
    health = AuditTrail(sink, "health")
    for n in range(count):
        await police.record(
            "published", attributes(f"C{n % 2}", n), topic="t", partition=0, offset=n
        )
        await health.record(
            "delivered",
            attributes(f"C{n % 2}", n),
            topic="t",
            partition=0,
            offset=n,
            categories=["minor", "health"],
        )
    return [AuditEntry(json.loads(v), 0, i) for i, (_k, v) in enumerate(sink.records)]


async def test_intact_chains_verify_and_a_case_lists_who_got_what() -> None:
    entries = await trail_entries()
    report = verify_chains(entries)
    assert report.ok
    assert (report.chains, report.records) == (2, 10)
    history = case_history(entries, "C0")
    assert [(r["agency"], r["action"]) for r in history][:2] == [
        ("police", "published"),
        ("health", "delivered"),
    ]
    assert {tuple(r["categories"]) for r in history if r["agency"] == "health"} == {
        ("health", "minor")
    }


@pytest.mark.parametrize("tamper", ["edit", "edit-and-rehash", "remove", "swap"])
async def test_a_tampered_record_is_the_first_broken_link(tamper: str) -> None:
    entries = await trail_entries()
    police = [i for i, e in enumerate(entries) if e.record["agency"] == "police"]
    target = police[2]  # seq 2 of the police chain
    if tamper == "edit":
        entries[target].record["case"] = "C9"
    elif tamper == "edit-and-rehash":
        entries[target].record["offset"] = 99
        entries[target].record["hash"] = record_hash(entries[target].record)
    elif tamper == "remove":
        del entries[target]
    else:
        entries[target], entries[police[3]] = entries[police[3]], entries[target]
    report = verify_chains(entries)
    assert len(report.broken) == 1
    broken = report.broken[0]
    assert broken.chain.startswith("police/")
    # a rehashed edit breaks the link of the next record, the others at seq 2 itself
    assert broken.seq == (3 if tamper == "edit-and-rehash" else 2), broken


def test_an_unreadable_record_breaks_nothing_else() -> None:
    entries = [AuditEntry({"chain": "x", "seq": -1, "error": "not JSON"}, 0, 0)]
    report = verify_chains(entries)
    assert not report.ok
    assert "not JSON" in str(report.broken[0])


class SlowSink(MemorySink):
    """Yields to the loop inside every write, as a Kafka producer does."""

    async def write(self, key: bytes, value: bytes) -> None:
        await asyncio.sleep(0)
        await super().write(key, value)


async def test_one_trail_shared_by_concurrent_tasks_stays_one_chain() -> None:
    """The worker's agents share one trail: no seq is used twice, the order is the seq order."""
    sink = SlowSink()
    trail = AuditTrail(sink, "workflows")

    async def task(first: int) -> None:
        for n in range(first, first + 10):
            await trail.record("delivered", attributes("C", n), topic="t", partition=0, offset=n)

    await asyncio.gather(*(task(first) for first in range(0, 50, 10)))
    entries = [AuditEntry(json.loads(v), 0, i) for i, (_, v) in enumerate(sink.records)]
    assert [e.record["seq"] for e in entries] == list(range(50))
    report = verify_chains(entries)
    assert report.ok, report.broken
