"""Connectors under a real time-stamping authority outage, on the real broker.

A source: every event it publishes is recorded in its agency's audit chain; when its
checkpoints wait too long for a time-stamp (the TSA is down) it holds (the file stays in the
inbox, nothing is sent), and when the TSA is back it publishes what it held, each event once,
each recorded once. The HTTP gateway: it answers 503 ``audit-unavailable`` (nothing sent) with
``Retry-After`` meanwhile, and the retry with the same ``Idempotency-Key`` is published once the
TSA is back."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from support.notary import notary_with_authority

from connectors.adapters.file_drop import FileDropConfig, FileDropSource
from connectors.adapters.http_gateway import HttpGateway
from connectors.sdk.testing import ConnectorHarness
from exchange.client.audited import Evidence
from exchange.examples import example_json
from exchange.protection.audit_kafka import read_audit
from exchange.settings import AuditSettings, FailClosedPolicy
from tests.connectors.adapters.test_http_gateway import gateway_config, post

pytestmark = pytest.mark.broker

LIMIT_S = 3.0
"""The fail-closed policy's limit on unanchored checkpoints in this test."""


def short_policy(harness: ConnectorHarness) -> None:
    """Checkpoint every record; fail closed after :data:`LIMIT_S` s without an anchor."""
    harness.evidence = Evidence(harness.evidence.keys, AuditSettings(
        checkpoint_every_records=1, fail_closed=FailClosedPolicy(max_unanchored_seconds=LIMIT_S)))


def drop(inbox: Path, name: str, sighting_id: str) -> None:
    row = dict(example_json("transport-sighting"), sightingId=sighting_id)
    part = inbox.parent / f"{name}.part"
    part.write_text(json.dumps(row) + "\n", encoding="utf-8")
    part.rename(inbox / name)


async def published(harness: ConnectorHarness, source: str, want: int,
                    settle: float = 0.0) -> dict[str, list[str]]:
    """Sighting id -> the ``ce_id`` of each copy on ``exchange.sighting`` from ``source``."""
    got = await harness.read("exchange.sighting", agency="police", count=want, source=source,
                             within=60, settle=settle)
    found: dict[str, list[str]] = {}
    for received in got:
        assert received.decoded is not None
        found.setdefault(received.decoded.event.sightingId,  # type: ignore[attr-defined]
                         []).append(received.headers["ce_id"])
    return found


async def test_a_source_holds_through_a_tsa_outage_and_loses_nothing(
    harness: ConnectorHarness, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    before, during, held = f"A-{tag}", f"B-{tag}", f"C-{tag}"
    short_policy(harness)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = harness.config(FileDropConfig, kind="file-drop", name=harness.unique_name("drop"),
                            agency="transport", inbox=inbox, event_type="transport-sighting",
                            poll_interval_s=0.1)
    source = FileDropSource(config, harness.context)

    def refused() -> float:
        return harness.metric("exchange_audit_refused_total", agency="transport")

    async with notary_with_authority(harness.kafka_for, harness.evidence.keys,
                                     tmp_path / "tsa") as tsa, harness.running(source):
        drop(inbox, "1.jsonl", before)
        await harness.until((inbox / "processed" / "1.jsonl").exists, 60)
        guard = source._publisher.guard  # type: ignore[union-attr]
        assert guard is not None
        await harness.until(lambda: not guard.pending, 60)  # the notary anchored it

        tsa.outage()
        drop(inbox, "2.jsonl", during)  # sent: its checkpoint starts waiting for an anchor
        await harness.until((inbox / "processed" / "2.jsonl").exists, 60)
        await asyncio.sleep(LIMIT_S + 1)
        drop(inbox, "3.jsonl", held)
        await harness.until(lambda: refused() > 0, 30)
        await asyncio.sleep(3)  # it keeps holding while the TSA is down
        assert (inbox / "3.jsonl").exists(), "the held file left the inbox"
        assert harness.metric("exchange_audit_fail_closed", agency="transport") == 1
        assert tsa.tsa_failures() > 0
        assert held not in await published(harness, config.ce_source, 2, settle=1)

        tsa.back()
        await harness.until((inbox / "processed" / "3.jsonl").exists, 60)
        assert harness.metric("exchange_audit_fail_closed", agency="transport") == 0

    copies = await published(harness, config.ce_source, 3, settle=2)
    assert sorted(copies) == sorted([before, during, held])
    assert all(len(ids) == 1 for ids in copies.values()), copies
    event_ids = {ids[0] for ids in copies.values()}
    entries = await read_audit(harness.kafka_for("operators"),
                               harness.topology.topic("exchange.audit").partitions)
    recorded = [e.record for e in entries if e.record.get("event_id") in event_ids]
    assert sorted(r["case"] for r in recorded) == sorted([before, during, held])
    assert {r["action"] for r in recorded} == {"published"}
    assert {r["agency"] for r in recorded} == {"transport"}
    assert len({r["chain"] for r in recorded}) == 1  # one chain for the connector's process


async def test_the_gateway_answers_audit_unavailable_through_a_tsa_outage(
    harness: ConnectorHarness, tmp_path: Path
) -> None:
    short_policy(harness)
    gateway = HttpGateway(gateway_config(harness, harness.unique_name("gw")), harness.context)
    path = "/v1/events/transport-sighting"
    tag = uuid.uuid4().hex[:6]
    async with notary_with_authority(harness.kafka_for, harness.evidence.keys,
                                     tmp_path / "tsa") as tsa, harness.running(gateway):
        await harness.until(lambda: gateway.port)
        tsa.outage()
        body = dict(example_json("transport-sighting"), sightingId=f"G1-{tag}")
        status, answer, _ = await post(gateway, path, body, key=f"k1-{tag}")
        assert status == 202, answer  # its checkpoint now waits for an anchor
        await asyncio.sleep(LIMIT_S + 1)
        held = dict(example_json("transport-sighting"), sightingId=f"G2-{tag}")
        status, answer, headers = await post(gateway, path, held, key=f"k2-{tag}")
        assert status == 503, answer
        assert answer["error"] == "audit-unavailable"
        assert "nothing was sent" in answer["message"]
        assert int(headers["Retry-After"]) > 0
        event_id = answer["eventId"]

        tsa.back()
        for _ in range(120):
            status, answer, _ = await post(gateway, path, held, key=f"k2-{tag}")
            if status == 202:
                break
            await asyncio.sleep(0.5)
        assert status == 202, answer
        assert answer["eventId"] == event_id  # the same event, published once it could be
    copies = await published(harness, f"/agencies/transport/t/{gateway.name}", 2, settle=2)
    assert sorted(copies) == [f"G1-{tag}", f"G2-{tag}"]
    assert copies[f"G2-{tag}"] == [event_id]
