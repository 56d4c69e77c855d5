"""A case's disclosure record end to end on the real broker: events published and delivered
with anchored audit chains, the notary time-stamping them with a real RFC 3161 TSA (openssl),
the bundle exported from the bus and verified offline, by the project and by openssl alone;
and every file of the bundle tampered with, one at a time."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry

from exchange.client.consumer import EventConsumer
from exchange.client.publisher import Publisher
from exchange.codec import DecodedEvent, EventCodec
from exchange.evidence import bundle_kafka, notary
from exchange.evidence.bundle import verify_bundle, write_bundle
from exchange.evidence.checkpoints import AnchoredTrail
from exchange.evidence.metrics import EvidenceMetrics
from exchange.evidence.tsa import TsaClient
from exchange.evidence.tsa_authority import TsaServer, init_authority
from exchange.examples import example
from exchange.metrics import BusMetrics
from exchange.protection.audit_kafka import KafkaAuditSink, audit_producer
from exchange.protection.entitlements import load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier

pytestmark = pytest.mark.broker
REPO = Path(__file__).resolve().parents[2]
OFFICE = "joint-meeting-office"


def protected(provisioned: Any, codec: EventCodec, keys: FileKeyStore, agency: str) -> Any:
    topology = provisioned.topology
    verifier = Verifier(keys, writers_of=lambda t: topology.topic(t).writers)
    return ProtectedCodec(codec, keys, load_entitlements(topology=topology), agency=agency,
                          verifier=verifier)


async def publish_as_police(provisioned: Any, codec: EventCodec, keys: FileKeyStore) -> str:
    """One rescue event published with an anchored audit chain; returns its event id."""
    producer = audit_producer(provisioned.kafka_as("police"))
    await producer.start()
    trail = AnchoredTrail(KafkaAuditSink(producer), "police", keys)
    try:
        data = example("rescue").model_dump(mode="json")
        data["rescueId"] = f"R-{uuid.uuid4().hex[:8]}"
        data["caseId"] = f"CASE-{uuid.uuid4().hex[:10]}"
        event = type(example("rescue")).model_validate(data)
        async with Publisher(
            provisioned.kafka_as("police"), codec, provisioned.topology, agency="police",
            source="/agencies/police/case-system", metrics=BusMetrics.on(CollectorRegistry()),
            protection=protected(provisioned, codec, keys, "police"), audit=trail,
        ) as publisher:
            result = await publisher.publish(event)
        await trail.close()
    finally:
        await producer.stop()
    return result.event_id


async def deliver_to_health(provisioned: Any, codec: EventCodec, keys: FileKeyStore,
                            event_id: str) -> None:
    producer = audit_producer(provisioned.kafka_as("health"))
    await producer.start()
    trail = AnchoredTrail(KafkaAuditSink(producer), "health", keys)
    consumer = EventConsumer(
        provisioned.kafka_as("health"), codec, ["exchange.rescue"], agency="health",
        group_id=f"health.bundle-test.{uuid.uuid4().hex[:8]}",
        deadletter_topic=provisioned.topology.deadletter_topic("health").name,
        metrics=BusMetrics.on(CollectorRegistry()),
        protection=protected(provisioned, codec, keys, "health"),
        quarantine_topic="exchange.quarantine.health", audit=trail,
    )
    got: list[str] = []

    async def handler(decoded: DecodedEvent, record: ConsumerRecord) -> None:
        got.append(decoded.attributes.id)

    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while event_id not in got:
                await consumer.poll_once(handler, timeout_ms=500)
        await trail.close()
    finally:
        await consumer.stop()
        await producer.stop()


async def anchored(core: notary.NotaryCore, signatures: list[str]) -> None:
    for _ in range(300):
        if set(signatures) <= core.anchored:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not anchored within 60 s: {set(signatures) - core.anchored}")


@pytest.fixture
async def exported(provisioned, codec: EventCodec, tmp_path: Path) -> tuple[Path, Path, str]:
    """A case published by police, delivered to health, anchored, exported: (bundle, TSA
    folder, case)."""
    keys = FileKeyStore(tmp_path / "keys")
    keys.init([a.id for a in provisioned.topology.agencies])
    tsa = TsaServer(tmp_path / "tsa").start()
    core = notary.NotaryCore(keys, EvidenceMetrics.on(CollectorRegistry()))
    stop = asyncio.Event()
    running = asyncio.create_task(notary.run(
        provisioned.kafka_as(OFFICE), core, TsaClient(tsa.url, ca_file=tsa.ca_file),
        notary.NotaryConfig(interval_s=0.5), stop,
    ))
    try:
        event_id = await publish_as_police(provisioned, codec, keys)
        await deliver_to_health(provisioned, codec, keys, event_id)
        audit = await bundle_kafka.read_audit(provisioned.kafka_as(OFFICE), 3)
        mine = [e.record for e in audit if e.record.get("event_id") == event_id]
        assert {r["action"] for r in mine} == {"published", "delivered"}
        case = mine[0]["case"]
        chains = {r["chain"] for r in mine}
        last = [e.record["signature"] for e in audit
                if e.record.get("kind") == "checkpoint" and e.record["chain"] in chains]
        await anchored(core, last)
    finally:
        stop.set()
        await running
        tsa.stop()
    disclosure = await bundle_kafka.gather(
        case, audit_settings=provisioned.kafka_as(OFFICE),
        event_settings=provisioned.kafka_as("health"), keys=keys, tsa_folder=tsa.folder,
    )
    assert len(disclosure.chains) == 2
    assert len(disclosure.events) == 1
    out = tmp_path / "case.zip"
    write_bundle(disclosure, out)
    return out, tsa.folder, case


async def test_the_bundle_verifies_offline_and_its_tokens_with_openssl(
    exported: tuple[Path, Path, str], tmp_path: Path
) -> None:
    out, tsa_folder, case = exported
    report = verify_bundle(out.read_bytes(), tsa_ca=tsa_folder / "ca.pem")
    assert report.ok, report.problems
    text = "\n".join(report.lines)
    assert text.count("record(s) of the case") == 2
    assert "time-stamped" in text
    assert "signed by police" in text
    # A third party's check: nothing but openssl, the token, the root and the TSA's CA.
    with zipfile.ZipFile(out) as archive:
        archive.extractall(tmp_path / "bundle")
    anchors = json.loads((tmp_path / "bundle" / "anchors.json").read_text())
    assert anchors
    for anchor in anchors:
        done = await asyncio.to_thread(
            subprocess.run,
            ["openssl", "ts", "-verify", "-digest", anchor["root"], "-token_in", "-in",
             str(tmp_path / "bundle" / anchor["token"]), "-CAfile", str(tsa_folder / "ca.pem"),
             "-untrusted", str(tmp_path / "bundle" / "tsa" / "tsa.pem")],
            capture_output=True, text=True, check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "Verification: OK" in done.stdout
        wrong = "00" * 32
        done = await asyncio.to_thread(
            subprocess.run,
            ["openssl", "ts", "-verify", "-digest", wrong, "-token_in", "-in",
             str(tmp_path / "bundle" / anchor["token"]), "-CAfile", str(tsa_folder / "ca.pem")],
            capture_output=True, text=True, check=False,
        )
        assert done.returncode != 0
    # The command, offline: no bus settings at all.
    cli = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "exchange.cli.main", "audit", "verify-bundle", str(out),
         "--tsa-ca", str(tsa_folder / "ca.pem")],
        capture_output=True, text=True, cwd=REPO, check=False, timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")},
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert f"the disclosure record of case {case} verifies" in cli.stdout


def _json_edit(edit: Callable[[Any], None]) -> Callable[[bytes, Path], bytes]:
    def apply(data: bytes, _tmp: Path) -> bytes:
        value = json.loads(data)
        edit(value)
        return json.dumps(value).encode()

    return apply


def _first_whole(chains: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return next(r for records in chains.values() for r in records)


def _flip_value(events: list[dict[str, Any]]) -> None:
    raw = bytearray(base64.b64decode(events[0]["value"]))
    raw[-1] ^= 0x01
    events[0]["value"] = base64.b64encode(bytes(raw)).decode()


def _other_key(keys: list[dict[str, Any]]) -> None:
    other = base64.b64encode(bytes(range(32))).decode()
    for entry in keys:
        entry["public"] = other


def _other_ca(_data: bytes, tmp: Path) -> bytes:
    return (init_authority(tmp / "other-tsa") / "ca.pem").read_bytes()


def _flip_byte(data: bytes, _tmp: Path) -> bytes:
    raw = bytearray(data)
    raw[len(raw) // 2] ^= 0x01
    return bytes(raw)


def _change_time(data: bytes, _tmp: Path) -> bytes:
    """The token's genTime (GeneralizedTime, tag 0x18, 15 bytes) a year earlier."""
    at = data.index(b"\x18\x0f") + 2
    year = int(data[at : at + 4]) - 1
    return data[:at] + str(year).encode() + data[at + 4 :]


TAMPERS: dict[str, Callable[[bytes, Path], bytes]] = {
    "records.json": _json_edit(lambda c: _first_whole(c).update(topic="exchange.elsewhere")),
    "checkpoints.json": _json_edit(lambda c: c[0].update(at="2020-01-01T00:00:00Z")),
    "anchors.json": _json_edit(lambda a: a[0].update(index=a[0]["index"] ^ 1, path=[])),
    "events.json": _json_edit(_flip_value),
    "keys/police.json": _json_edit(_other_key),
    "keys/health.json": _json_edit(_other_key),
    "tsa/ca.pem": _other_ca,
    "manifest.json": _json_edit(lambda m: m.update(case="CASE-someone-else")),
}


def rezip(files: dict[str, bytes], name: str, data: bytes, *, rehash: bool) -> bytes:
    files = {**files, name: data}
    if rehash and name != "manifest.json":
        manifest = json.loads(files["manifest.json"])
        manifest["files"][name] = hashlib.sha256(data).hexdigest()
        files["manifest.json"] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for file, content in files.items():
            archive.writestr(file, content)
    return out.getvalue()


async def test_every_file_of_the_bundle_tampered_fails(
    exported: tuple[Path, Path, str], tmp_path: Path
) -> None:
    out, tsa_folder, _case = exported
    with zipfile.ZipFile(out) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert set(TAMPERS) - set(files) == set()
    tokens = {name for name in files if name.startswith("tokens/")}
    assert tokens
    informational = {"HOW-TO-VERIFY.txt", "tsa/tsa.pem"}
    assert set(files) - set(TAMPERS) - tokens == informational
    ca = tsa_folder / "ca.pem"
    for name, data in files.items():
        default = _change_time if name.startswith("tokens/") else _flip_byte
        changed = TAMPERS.get(name, default)(data, tmp_path)
        assert changed != data
        # The manifest's hash catches any change...
        if name != "manifest.json":
            report = verify_bundle(rezip(files, name, changed, rehash=False), tsa_ca=ca)
            assert [p.file for p in report.problems] == [name], name
        # ...and the evidence itself when the manifest was "fixed" too (the bundle's own CA).
        if name not in informational:
            report = verify_bundle(rezip(files, name, changed, rehash=True))
            assert not report.ok, name
    # With the TSA's real CA given by the inspector, a bundle's own CA cannot vouch for itself.
    report = verify_bundle(rezip(files, "tsa/ca.pem", _other_ca(b"", tmp_path), rehash=True),
                           tsa_ca=ca)
    assert report.ok
