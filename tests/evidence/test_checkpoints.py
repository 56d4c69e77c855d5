"""Checkpoints sign a chain's head; the verifier tells a cut, a rewrite, a gap, a fork and a
duplicate apart (the broker versions of these are in test_chains_broker.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support.evidence import MemorySink, as_entries, attributes, rewrite

from exchange.evidence.chains import verify_anchored
from exchange.evidence.checkpoints import AnchoredTrail, CheckpointPolicy, checkpoint_problem
from exchange.protection.audit import verify_chains
from exchange.protection.keys import FileKeyStore


async def police_chain(keys: FileKeyStore, count: int = 10, every: int = 5) -> list[dict[str, Any]]:
    sink = MemorySink()
    trail = AnchoredTrail(sink, "police", keys, policy=CheckpointPolicy(every_records=every))
    for n in range(count):
        await trail.record("published", attributes("C1", n), topic="t", partition=0, offset=n)
    await trail.close()
    return [e.record for e in sink.entries()]


async def test_checkpoints_every_n_records_and_on_shutdown(keys: FileKeyStore) -> None:
    records = await police_chain(keys, count=12, every=5)
    checkpoints = [r for r in records if r.get("kind") == "checkpoint"]
    assert [(c["seq"], c["reason"]) for c in checkpoints] == [
        (4, "records"), (9, "records"), (11, "shutdown")
    ]
    assert all(checkpoint_problem(keys, c) is None for c in checkpoints)
    report = verify_anchored(as_entries(records), keys)
    assert report.ok, report.findings
    assert not report.of("unanchored")
    assert verify_chains(as_entries(records)).ok  # the plain check skips checkpoints


async def test_a_checkpoint_after_an_interval(keys: FileKeyStore) -> None:
    sink = MemorySink()
    trail = AnchoredTrail(
        sink, "police", keys, policy=CheckpointPolicy(every_records=1000, every_seconds=0.2)
    )
    trail.start()
    await trail.record("published", attributes("C", 0), topic="t", partition=0, offset=0)
    await asyncio.sleep(0.6)
    reasons = [e.record.get("reason") for e in sink.entries() if "reason" in e.record]
    await trail.close()
    assert reasons == ["interval"]
    assert len(sink.records) == 2  # nothing new: no checkpoint on shutdown


async def test_a_truncated_tail_is_found_by_a_checkpoint(keys: FileKeyStore) -> None:
    records = await police_chain(keys)
    kept = [r for r in records if r.get("kind") == "checkpoint" or r["seq"] < 7]
    report = verify_anchored(as_entries(kept), keys)
    assert [(f.kind, f.seq) for f in report.breaks] == [("truncated", 7)]
    assert verify_chains(as_entries(kept)).ok  # the hash chain alone sees nothing


async def test_a_rewritten_chain_does_not_match_its_signed_head(keys: FileKeyStore) -> None:
    records = await police_chain(keys)
    forged = rewrite(records, 3, topic="elsewhere")
    assert verify_chains(as_entries(forged)).ok  # rehashed: every link holds
    report = verify_anchored(as_entries(forged), keys)
    assert {(f.kind, f.seq) for f in report.breaks} == {("rewritten", 4), ("rewritten", 9)}


async def test_a_forged_checkpoint_is_refused(keys: FileKeyStore) -> None:
    records = await police_chain(keys)
    forged = rewrite(records, 3, topic="elsewhere")
    for record in forged:
        if record.get("kind") == "checkpoint":
            record["head"] = forged[record["seq"] + record["seq"] // 5]["hash"]
    report = verify_anchored(as_entries(forged), keys)
    assert {f.kind for f in report.breaks} == {"bad-checkpoint"}
    assert "does not match" in report.breaks[0].detail


async def test_another_agencys_key_cannot_sign_a_chain(keys: FileKeyStore) -> None:
    records = await police_chain(keys, count=3, every=100)
    checkpoint = records[-1]
    health = await police_chain_as(keys, "health")
    forged = {**checkpoint, "key_id": health["key_id"], "signature": health["signature"]}
    assert "not a signing key of the chain's agency" in str(checkpoint_problem(keys, forged))


async def police_chain_as(keys: FileKeyStore, agency: str) -> dict[str, Any]:
    sink = MemorySink()
    trail = AnchoredTrail(sink, agency, keys)
    await trail.record("published", attributes("C", 0, agency), topic="t", partition=0, offset=0)
    await trail.close()
    return sink.entries()[-1].record


@pytest.mark.parametrize(
    ("tamper", "kind", "seq"),
    [("duplicate", "duplicate", 5), ("fork", "forked", 5), ("gap", "gap", 5)],
)
async def test_a_duplicate_is_not_a_break_but_a_fork_or_gap_is(
    keys: FileKeyStore, tamper: str, kind: str, seq: int
) -> None:
    records = await police_chain(keys)
    at = next(i for i, r in enumerate(records) if r.get("seq") == 5 and "kind" not in r)
    if tamper == "duplicate":
        records.insert(at + 1, dict(records[at]))
    elif tamper == "fork":
        records.insert(at + 1, {**records[at], "offset": 77})
    else:
        del records[at]
    report = verify_anchored(as_entries(records), keys)
    assert [(f.kind, f.seq) for f in report.findings if f.kind != "unanchored"] == [(kind, seq)]
    assert report.ok == (tamper == "duplicate")
