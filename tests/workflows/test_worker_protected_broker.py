"""The protected worker end to end against the real broker (issue #4 acceptance, workflows part).

One ``exchange worker``, protected by default (its own app id, state dir and log): police
publish a missing child report and transport a matching sighting, both sealed and signed,
carrying canary strings.
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
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from support.protection import files_containing, quarantine_reasons
from support.worker import REPO, sighting, start_worker, stop_worker

from exchange.codec import EventCodec
from exchange.examples import example_json
from exchange.models.exceptions import validate_event
from exchange.models.identifiers import resident_id_check_char
from exchange.models.missing_persons import MissingPersonReport
from exchange.protection.audit import case_history, verify_chains
from exchange.protection.audit_kafka import read_audit
from exchange.protection.entitlements import load_entitlements
from exchange.protection.exceptions import VerificationError
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import PROTECTED, OpenedEvent, ProtectedCodec
from exchange.protection.signing import SIG_HEADER, Verifier
from exchange.rules.public_alert import public_reference

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
    sequence = int(tag[4:7], 16) % 500 * 2 + 1  # odd: a boy (GB 11643)
    first17 = f"610113201905{int(tag[:4], 16) % 28 + 1:02d}{sequence:03d}"
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
                   records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]],
                   ) -> list[tuple[int, int]]:
    """Send as they are; the (partition, offset) of each."""
    producer = AIOKafkaProducer(**provisioned.kafka_as(agency).aiokafka_kwargs(), acks="all")
    await producer.start()
    try:
        sent = [await producer.send_and_wait(topic, value=v, key=k, headers=h)
                for k, v, h in records]
        return [(s.partition, s.offset) for s in sent]
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
                    try:
                        opened = opener.decode(record.key, record.value, record.headers,
                                               (record.topic, record.partition, record.offset))
                    except VerificationError as error:
                        if error.reason != "replayed":
                            raise
                        continue  # a copy of an id read before (at-least-once, or another
                        # test's worker deriving the same id from the same example event)
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


Position = tuple[int, int]


async def quarantined(
    provisioned: Any, topic: str, positions: set[Position]
) -> dict[Position, str]:
    """Original (partition, offset) -> reason of our records in exchange.quarantine.workflows
    (other tests' unsigned records are there too)."""
    return {
        (partition, offset): reason
        for (source, partition, offset), reason in (
            await quarantine_reasons(provisioned, "workflows")
        ).items()
        if source == topic and (partition, offset) in positions
    }


def metric(port: int, name: str, **labels: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


class Run:
    """One run's canary events, worker and where it keeps things."""

    def __init__(self, provisioned: Any, codec: EventCodec, tmp_path: Path) -> None:
        self.provisioned = provisioned
        self.agencies = Agencies(provisioned, codec)
        self.tmp_path = tmp_path
        self.tag = tag = uuid.uuid4().hex[:10]
        self.report = canary_report(f"A610113P{tag.upper()}", tag)
        self.reference = public_reference(self.report.caseId)
        self.id_number = self.report.missingPerson.documents[0].number
        seen = sighting(f"P-{tag}")
        first = seen.suspectedPersons[0].model_copy(
            update={"clothing": f"red T-shirt, CanaryCoat{tag}"}
        )
        persons = (first, *seen.suspectedPersons[1:])
        self.seen = seen.model_copy(update={"suspectedPersons": persons})
        self.canaries = [self.report.missingPerson.name, self.id_number, f"CanaryMark{tag}",
                         f"CanaryCoat{tag}"]
        self.bad_ids = {f"U-{tag}", f"V-{tag}", f"H-{tag}", f"F-{tag}"}
        self.state_dir = tmp_path / "worker-state"
        self.log_file = tmp_path / "worker.log"
        self.port = free_port()

    def start(self) -> subprocess.Popen[bytes]:
        return start_worker(
            self.provisioned, "--app-id", f"workflows.protected-{self.tag}",  # protected: no flag
            "--metrics-port", str(self.port), "--loglevel", "info",
            data_dir=self.state_dir, log_file=self.log_file,
        )

    async def case_is_alerted_for_entitled_readers_only(self) -> None:
        """Transport (entitled to identity + minor) reads the child's name in the CAP message;
        human-resources' keys open nothing of it."""
        agencies = self.agencies
        case = agencies.as_("police").encode(
            self.report, source="/agencies/police/case-system",
            readers=agencies.readers("exchange.missing-person"),
        )
        await send_raw(self.provisioned, "police", "exchange.missing-person",
                       [(case.key, case.value, case.headers)])
        alerts, records = await read_until(
            self.provisioned, "transport", "exchange.alert.to.transport",
            agencies.as_("transport"),
            lambda o: getattr(o.decoded.event, "reference", None) == self.reference, enough=bool,
        )
        assert alerts, "no alert for the protected case"
        assert alerts[0].signer == "workflows"
        assert self.report.missingPerson.name in alerts[0].decoded.event.cap
        assert self.id_number not in alerts[0].decoded.event.cap
        record = records[0]
        outsider = agencies.as_("human-resources").decode(
            record.key, record.value, record.headers,
            ("exchange.alert.to.transport", record.partition, record.offset),
        )
        assert "cap" in outsider.protected
        assert outsider.view()["cap"] == PROTECTED
        assert all(c not in str(outsider.view()) for c in self.canaries)

    async def send_sightings(self) -> dict[Position, str]:
        """The genuine matching sighting, then unsigned, tampered (body, header), forged and
        replayed ones; returns where the bad ones are, with the reason expected."""
        agencies, tag = self.agencies, self.tag
        transport = agencies.as_("transport")
        readers = agencies.readers("exchange.sighting")
        source = "/agencies/transport/staff-app"

        def signed(sighting_id: str) -> Any:
            event = self.seen.model_copy(update={"sightingId": sighting_id})
            return transport.encode(event, source=source, readers=readers)

        forger = FileKeyStore(self.tmp_path / "forger")
        forger.init(["transport"])
        forged = agencies.as_("transport", forger).encode(
            self.seen.model_copy(update={"sightingId": f"F-{tag}"}), source=source, readers=[]
        )
        genuine, unsigned, flipped, retimed = (
            signed(self.seen.sightingId), signed(f"U-{tag}"), signed(f"V-{tag}"),
            signed(f"H-{tag}"),
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
        positions = await send_raw(
            self.provisioned, "transport", "exchange.sighting",
            [(genuine.key, genuine.value, genuine.headers)] + [(k, v, h) for _, k, v, h in bad],
        )
        return {at: reason for at, (reason, *_) in zip(positions[1:], bad, strict=True)}

    async def only_the_genuine_sighting_is_matched_and_dispatched(self) -> None:
        police = self.agencies.as_("police")
        # this run's sightings only: the case also matches other tests' sightings of a child
        # like it (the look-back reads every sighting since the person was last seen, in 2025)
        matches, _ = await read_until(
            self.provisioned, "police", "exchange.match.to.police", police,
            lambda o: getattr(o.decoded.event, "caseId", None) == self.report.caseId
            and getattr(o.decoded.event, "sightingId", "").endswith(self.tag),
            enough=bool, settle_s=3,
        )
        assert {m.decoded.event.sightingId for m in matches} == {self.seen.sightingId}
        assert matches[0].decoded.event.score >= 0.6
        assert "sightingLocation.lat" in matches[0].opened.paths  # sealed for police, opened
        dispatched, _ = await read_until(
            self.provisioned, "railway-police", "exchange.sighting.to.railway-police",
            self.agencies.as_("railway-police"),
            lambda o: getattr(o.decoded.event, "sightingId", "").endswith(self.tag),
            enough=lambda f: len({d.decoded.event.dispatchId for d in f}) >= 2, settle_s=5,
        )
        assert {d.decoded.event.sightingId for d in dispatched} == {self.seen.sightingId}
        assert len({d.decoded.event.dispatchId for d in dispatched}) == 2  # RESPOND + INTERCEPT
        clothing = dispatched[0].decoded.event.suspectedPersons[0].clothing
        assert clothing == f"red T-shirt, CanaryCoat{self.tag}"  # railway police may read it
        elsewhere, _ = await read_until(
            self.provisioned, "police", "exchange.sighting.to.police", police,
            lambda o: getattr(o.decoded.event, "sightingId", "") in self.bad_ids,
            enough=lambda f: True, timeout_s=3,
        )
        assert elsewhere == []

    async def bad_sightings_are_quarantined_and_counted(
        self, expected: dict[Position, str]
    ) -> None:
        reasons: dict[Position, str] = {}
        deadline = time.monotonic() + 60
        while reasons != expected and time.monotonic() < deadline:
            reasons = await quarantined(self.provisioned, "exchange.sighting", set(expected))
            await asyncio.sleep(1)
        assert reasons == expected  # 100 % quarantined, each with its reason
        for reason in ("unsigned", "bad-signature", "replayed"):
            counted = metric(self.port, "exchange_events_quarantined_total",
                             topic="exchange.sighting", reason=reason, agency="workflows")
            assert counted >= sum(r == reason for r in expected.values()), reason

    async def audit_shows_deliveries_routing_and_quarantine(self) -> None:
        provisioned = self.provisioned
        entries = await read_audit(provisioned.kafka_as("operators"),
                                   provisioned.topology.topic("exchange.audit").partitions)
        mine = [e for e in entries if str(e.record.get("chain", "")).startswith("workflows/")]
        assert mine
        assert verify_chains(mine).ok

        def by_worker(case: str) -> list[dict[str, Any]]:
            return [r for r in case_history(entries, case) if r["agency"] == "workflows"]

        case = {(r["action"], r["topic"]): r for r in by_worker(self.report.caseId)}
        delivered = case[("delivered", "exchange.missing-person")]
        assert {"identity", "minor"} <= set(delivered["categories"])
        assert ("routed", "exchange.match.to.police") in case
        alert = {(r["action"], r["topic"]) for r in by_worker(self.reference)}
        assert ("routed", "exchange.alert.to.transport") in alert
        refused = by_worker(f"U-{self.tag}")
        assert [(r["action"], r["detail"]) for r in refused] == [("quarantined", "unsigned")]
        # Stopped cleanly (SIGTERM): the chain ends with a checkpoint of reason "shutdown"
        # that signs its very last record, written after every other record of the chain.
        chain = [e.record for e in entries if e.record.get("chain") == delivered["chain"]]
        last = chain[-1]
        assert (last.get("kind"), last.get("reason")) == ("checkpoint", "shutdown"), last
        assert last["seq"] == max(r["seq"] for r in chain if r.get("kind") != "checkpoint")
        listed = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "exchange.cli.main", "audit", "case", self.report.caseId],
            capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
            env={**os.environ,
                 "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
                 "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent)},
        )
        assert listed.returncode == 0, listed.stderr
        assert " delivered " in listed.stdout
        assert " routed " in listed.stdout

    def no_canary_in_plaintext_anywhere(self) -> None:
        """Broker data and logs, the worker's state dir and its log."""
        cluster = self.provisioned.broker.cluster
        broker = [Path(n.data_dir) for n in cluster.nodes]
        broker += [Path(n.log_dir) for n in cluster.nodes]
        worker_log = self.log_file.read_bytes()
        assert worker_log  # it logged (at info level)
        for canary in self.canaries:
            needle = canary.encode()
            assert files_containing(broker, needle) == [], canary
            assert files_containing([self.state_dir], needle) == [], canary
            assert needle not in worker_log, canary
        # The searches are real: the case id (a table key, not personal data) is found in both.
        assert files_containing([self.state_dir], self.report.caseId.encode())
        assert files_containing(broker, self.report.caseId.encode())


async def test_protected_worker_seals_routes_quarantines_and_audits(
    provisioned, codec: EventCodec, tmp_path: Path
) -> None:
    run = Run(provisioned, codec, tmp_path)
    worker = run.start()
    try:
        await run.case_is_alerted_for_entitled_readers_only()
        await asyncio.sleep(2)  # the open-cases table has the case (read next to the alert)
        expected = await run.send_sightings()
        await run.only_the_genuine_sighting_is_matched_and_dispatched()
        await run.bad_sightings_are_quarantined_and_counted(expected)
    finally:
        stop_worker(worker, log_file=run.log_file)
    await run.audit_shows_deliveries_routing_and_quarantine()
    run.no_canary_in_plaintext_anywhere()
