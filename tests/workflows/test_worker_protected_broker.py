"""The protected worker end to end against the real broker (issue #4 acceptance, workflows part).

One protected ``exchange worker`` (its own app id, state dir and log): police publish a missing
child report and transport a matching sighting, both sealed and signed, carrying canary strings.
The worker alerts, matches and dispatches; entitled readers open its outputs, an unentitled one
cannot; unsigned, forged, tampered and replayed sightings are quarantined, counted and never
dispatched; the audit trail shows what the worker was given and where it routed it; and no canary
is found in the broker's files, the worker's state dir, or its log.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from support.worker import REPO, sighting, start_worker, stop_worker

from exchange.codec import EventCodec
from exchange.models.events import MissingPersonReport
from exchange.models.examples import example_json
from exchange.models.exceptions import validate_event
from exchange.models.identifiers import resident_id_check_char
from exchange.protection.audit import case_history, verify_chains
from exchange.protection.audit_kafka import read_audit
from exchange.protection.entitlements import load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import PROTECTED, OpenedEvent, ProtectedCodec
from exchange.protection.signing import SIG_HEADER, Verifier
from exchange.workflows.alerts import public_reference

pytestmark = pytest.mark.broker


class Agencies:
    """Protected codecs of the agencies, with the key store the worker reads (<state>/keys)."""

    def __init__(self, provisioned: Any, codec: EventCodec) -> None:
        self.topology = provisioned.topology
        self.codec = codec
        self.keys = FileKeyStore(provisioned.credentials.directory.parent / "keys")
        self.keys.init([a.id for a in self.topology.agencies])
        self.entitlements = load_entitlements(topology=self.topology)

    def as_(self, agency: str, keys: FileKeyStore | None = None) -> ProtectedCodec:
        store = keys or self.keys
        verifier = Verifier(store, writers_of=lambda t: self.topology.topic(t).writers)
        return ProtectedCodec(self.codec, store, self.entitlements, agency=agency,
                              verifier=verifier)

    def readers(self, topic: str) -> tuple[str, ...]:
        return self.topology.topic(topic).readers


def canary_report(case_id: str, tag: str) -> MissingPersonReport:
    """A missing 5-year-old boy (matches the example sighting on train G87) whose name, ID
    number and distinguishing mark are canaries."""
    data = example_json("missing-person-report")
    person = data["missingPerson"]
    person.pop("birthDate", None)
    first17 = f"610113201905{int(tag[:4], 16) % 28 + 1:02d}{int(tag[4:7], 16) % 1000:03d}"
    person["documents"] = [
        {"kind": "RESIDENT_ID", "number": first17 + resident_id_check_char(first17)}
    ]
    person["name"] = f"CanaryName{tag}"
    person["description"] = {
        "ageYears": 5, "gender": "MALE", "clothing": "red T-shirt, blue shorts",
        "distinguishingMarks": f"CanaryMark{tag} on the left hand",
    }
    data.update(caseId=case_id, lastSeenAt="2025-05-18T16:40:00+08:00",
                reportedAt="2025-05-18T17:05:00+08:00")
    return validate_event(MissingPersonReport, data)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def send_raw(provisioned: Any, agency: str, topic: str,
                   records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]) -> list[int]:
    producer = AIOKafkaProducer(**provisioned.kafka_as(agency).aiokafka_kwargs(), acks="all")
    await producer.start()
    try:
        return [
            (await producer.send_and_wait(topic, value=v, key=k, headers=h)).offset
            for k, v, h in records
        ]
    finally:
        await producer.stop()


async def read_until(
    provisioned: Any, agency: str, topic: str, opener: ProtectedCodec,
    want: Callable[[OpenedEvent], bool], *, enough: Callable[[list[OpenedEvent]], bool],
    timeout_s: float = 90, settle_s: float = 0,
) -> tuple[list[OpenedEvent], list[Any]]:
    """Records of ``topic`` read as ``agency`` and opened with ``opener``, until ``enough``;
    returns the opened events that ``want`` and their raw records."""
    consumer = AIOKafkaConsumer(
        topic, **provisioned.kafka_as(agency).aiokafka_kwargs(),
        group_id=f"{agency}.test.{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[OpenedEvent] = []
    raw: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_s
        settle_until: float | None = None
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    if dict(record.headers).get(SIG_HEADER) is None:
                        continue  # an unprotected worker's output (other tests)
                    opened = opener.decode(record.key, record.value, record.headers,
                                           (record.topic, record.partition, record.offset))
                    if want(opened):
                        found.append(opened)
                        raw.append(record)
            if enough(found):
                settle_until = settle_until or time.monotonic() + settle_s
                if time.monotonic() >= settle_until:
                    break
    finally:
        await consumer.stop()
    return found, raw


async def quarantined(provisioned: Any, topic: str, offsets: set[int]) -> dict[int, str]:
    """Original offset -> reason of our records in exchange.quarantine.workflows."""
    consumer = AIOKafkaConsumer(**provisioned.kafka_as("operators").aiokafka_kwargs(),
                                group_id=None, enable_auto_commit=False)
    await consumer.start()
    found: dict[int, str] = {}
    try:
        name = "exchange.quarantine.workflows"
        tps = [TopicPartition(name, p)
               for p in range(provisioned.topology.topic(name).partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    headers = {k: v.decode(errors="replace") for k, v in record.headers}
                    offset = int(headers["exchange.original.offset"])
                    if headers["exchange.original.topic"] == topic and offset in offsets:
                        found[offset] = headers["exchange.error.reason"]
    finally:
        await consumer.stop()
    return found


def files_containing(roots: list[Path], needle: bytes) -> list[Path]:
    return [
        file for root in roots for file in root.rglob("*")
        if file.is_file() and needle in file.read_bytes()
    ]


def metric(port: int, name: str, **labels: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_protected_worker_seals_routes_quarantines_and_audits(
    provisioned, codec: EventCodec, tmp_path: Path
) -> None:
    agencies = Agencies(provisioned, codec)
    tag = uuid.uuid4().hex[:10]
    report = canary_report(f"A610113P{tag.upper()}", tag)
    id_number = report.missingPerson.documents[0].number
    seen = sighting(f"P-{tag}")
    seen = seen.model_copy(update={"suspectedPersons": (
        seen.suspectedPersons[0].model_copy(update={"clothing": f"red T-shirt, CanaryCoat{tag}"}),
        *seen.suspectedPersons[1:],
    )})
    canaries = [report.missingPerson.name, id_number, f"CanaryMark{tag}", f"CanaryCoat{tag}"]

    state_dir, log_file, port = tmp_path / "worker-state", tmp_path / "worker.log", free_port()
    worker = start_worker(
        provisioned, "--protected", "--app-id", f"workflows.protected-{tag}",
        "--metrics-port", str(port), "--loglevel", "info",
        data_dir=state_dir, log_file=log_file,
    )
    try:
        police = agencies.as_("police")
        case = police.encode(report, source="/agencies/police/case-system",
                             readers=agencies.readers("exchange.missing-person"))
        await send_raw(provisioned, "police", "exchange.missing-person",
                       [(case.key, case.value, case.headers)])
        reference = public_reference(report.caseId)

        # The alert: transport (entitled to identity + minor) reads the child's name in the CAP
        # message; human-resources' keys open nothing of it.
        alerts, alert_records = await read_until(
            provisioned, "transport", "exchange.alert.to.transport", agencies.as_("transport"),
            lambda o: getattr(o.decoded.event, "reference", None) == reference,
            enough=bool,
        )
        assert alerts, "no alert for the protected case"
        assert alerts[0].signer == "workflows"
        assert report.missingPerson.name in alerts[0].decoded.event.cap
        assert id_number not in alerts[0].decoded.event.cap
        record = alert_records[0]
        outsider = agencies.as_("human-resources").decode(
            record.key, record.value, record.headers,
            ("exchange.alert.to.transport", record.partition, record.offset),
        )
        assert "cap" in outsider.protected
        assert outsider.view()["cap"] == PROTECTED
        assert all(c not in str(outsider.view()) for c in canaries)

        # The matching sighting, then forged, tampered, unsigned and replayed ones.
        await asyncio.sleep(2)  # the open-cases table has the case (read next to the alert)
        transport = agencies.as_("transport")
        readers = agencies.readers("exchange.sighting")

        def signed(sighting_id: str) -> Any:
            event = seen.model_copy(update={"sightingId": sighting_id})
            return transport.encode(event, source="/agencies/transport/staff-app",
                                    readers=readers)

        forger = FileKeyStore(tmp_path / "forger")
        forger.init(["transport"])
        forged = agencies.as_("transport", forger).encode(
            seen.model_copy(update={"sightingId": f"F-{tag}"}),
            source="/agencies/transport/staff-app", readers=[],
        )
        genuine, unsigned, flipped, retimed = (
            signed(seen.sightingId), signed(f"U-{tag}"), signed(f"V-{tag}"), signed(f"H-{tag}")
        )
        body = bytearray(flipped.value)
        body[-3] ^= 0x01
        bad = [
            ("unsigned", unsigned.key, unsigned.value,
             [(k, v) for k, v in unsigned.headers if k != SIG_HEADER]),
            ("bad-signature", flipped.key, bytes(body), flipped.headers),
            ("bad-signature", retimed.key, retimed.value,
             [(k, b"2020-01-01T00:00:00Z" if k == "ce_time" else v) for k, v in retimed.headers]),
            ("bad-signature", forged.key, forged.value, forged.headers),
            ("replayed", genuine.key, genuine.value, genuine.headers),
        ]
        offsets = await send_raw(
            provisioned, "transport", "exchange.sighting",
            [(genuine.key, genuine.value, genuine.headers)] + [(k, v, h) for _, k, v, h in bad],
        )
        expected = {offset: reason for offset, (reason, *_) in zip(offsets[1:], bad, strict=True)}

        matches, _ = await read_until(
            provisioned, "police", "exchange.match.to.police", police,
            lambda o: getattr(o.decoded.event, "caseId", None) == report.caseId, enough=bool,
        )
        assert {m.decoded.event.sightingId for m in matches} == {seen.sightingId}
        assert matches[0].decoded.event.score >= 0.6
        assert "sightingLocation.lat" in matches[0].opened.paths  # sealed for police, opened

        bad_ids = {f"U-{tag}", f"V-{tag}", f"H-{tag}", f"F-{tag}"}
        dispatched, _ = await read_until(
            provisioned, "railway-police", "exchange.sighting.to.railway-police",
            agencies.as_("railway-police"),
            lambda o: getattr(o.decoded.event, "sightingId", "").endswith(tag),
            enough=lambda f: len({d.decoded.event.dispatchId for d in f}) >= 2, settle_s=5,
        )
        assert {d.decoded.event.sightingId for d in dispatched} == {seen.sightingId}  # not bad_ids
        assert len({d.decoded.event.dispatchId for d in dispatched}) == 2  # RESPOND + INTERCEPT
        clothing = dispatched[0].decoded.event.suspectedPersons[0].clothing
        assert clothing == f"red T-shirt, CanaryCoat{tag}"  # railway police may read it

        reasons: dict[int, str] = {}
        deadline = time.monotonic() + 60
        while reasons != expected and time.monotonic() < deadline:
            reasons = await quarantined(provisioned, "exchange.sighting", set(expected))
            await asyncio.sleep(1)
        assert reasons == expected  # 100 % quarantined, each with its reason
        for reason in ("unsigned", "bad-signature", "replayed"):
            counted = metric(port, "exchange_events_quarantined_total",
                             topic="exchange.sighting", reason=reason, agency="workflows")
            assert counted >= sum(r == reason for r in expected.values()), reason
        police_dispatches, _ = await read_until(
            provisioned, "police", "exchange.sighting.to.police", police,
            lambda o: getattr(o.decoded.event, "sightingId", "") in bad_ids,
            enough=lambda f: True, timeout_s=3,
        )
        assert police_dispatches == []
    finally:
        stop_worker(worker, log_file=log_file)

    # The audit: the worker was given the case and the sighting and routed its outputs.
    entries = await read_audit(provisioned.kafka_as("operators"),
                               provisioned.topology.topic("exchange.audit").partitions)
    mine = [e for e in entries if str(e.record.get("chain", "")).startswith("workflows/")]
    assert mine and verify_chains(mine).ok
    history = case_history(entries, report.caseId)
    worker_actions = {(r["action"], r["topic"]) for r in history if r["agency"] == "workflows"}
    assert ("delivered", "exchange.missing-person") in worker_actions
    assert ("routed", "exchange.alert.to.transport") in worker_actions
    delivered = next(
        r for r in history if r["action"] == "delivered" and r["agency"] == "workflows"
    )
    assert {"identity", "minor"} <= set(delivered["categories"])
    listed = subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", "audit", "case", report.caseId],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
        env={**os.environ,
             "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
             "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent)},
    )
    assert listed.returncode == 0, listed.stderr
    assert "delivered" in listed.stdout and "routed" in listed.stdout
    refused = [r for r in case_history(entries, f"U-{tag}") if r["agency"] == "workflows"]
    assert [(r["action"], r["detail"]) for r in refused] == [("quarantined", "unsigned")]

    # No canary in plaintext anywhere: broker data and logs, worker state, worker log.
    cluster = provisioned.broker.cluster
    broker = [Path(n.data_dir) for n in cluster.nodes] + [Path(n.log_dir) for n in cluster.nodes]
    worker_log = log_file.read_bytes()
    assert worker_log  # it logged (at info level)
    for canary in canaries:
        needle = canary.encode()
        assert files_containing(broker, needle) == [], canary
        assert files_containing([state_dir], needle) == [], canary
        assert needle not in worker_log, canary
    # The searches are real: the case id (a table key, not personal data) is found in both.
    assert files_containing([state_dir], report.caseId.encode())
    assert files_containing(broker, report.caseId.encode())
