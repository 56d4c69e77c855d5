"""``exchange audit`` as an operator runs it, and the protected codec of the event commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from support.keys import SOURCE, Host, publish, read_at, report

from exchange.cli import context, protection_cmd
from exchange.codec import CloudEventAttributes, EventCodec
from exchange.examples import example_json
from exchange.protection.audit import AuditTrail, record_hash
from exchange.protection.audit_kafka import KafkaAuditSink
from exchange.protection.certificates import RootKey
from exchange.protection.exceptions import VerificationError
from exchange.protection.key_bus import certify_requests, request_certification
from exchange.protection.keys import FileKeyStore
from exchange.topology.trust import Trust

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=REPO,
        timeout=120,
        check=False,
    )


@pytest.mark.broker
async def test_audit_verify_finds_a_tampered_record_and_case_lists_the_exchanges(
    provisioned,
) -> None:
    case = f"A-{uuid.uuid4().hex[:12]}"
    producer = AIOKafkaProducer(
        **provisioned.kafka_as("police").aiokafka_kwargs(), acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        sink = KafkaAuditSink(producer)
        trail = AuditTrail(sink, "police")
        attributes = CloudEventAttributes(
            "e-1",
            "/agencies/police/x",
            "exchange.events.Rescue",
            datetime.now(UTC),
            case,
            "",
            "application/avro",
            "1.0",
        )
        records = [
            await trail.record(
                "published", attributes, topic="exchange.rescue", partition=0, offset=n
            )
            for n in range(3)
        ]
        env = {
            "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
            "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent),
        }
        listed = run_cli("audit", "case", case, env=env)
        assert listed.returncode == 0, listed.stderr
        assert f"3 exchange(s) about case {case}" in listed.stdout
        assert "police" in listed.stdout
        # A rogue record continues the chain but claims an exchange that did not happen.
        forged = {**records[-1], "seq": 3, "prev": records[-1]["hash"], "topic": "elsewhere"}
        forged["hash"] = record_hash({**forged, "topic": "exchange.rescue"})
        await sink.write(trail.chain.encode(), json.dumps(forged).encode())
    finally:
        await producer.stop()
    verified = run_cli("audit", "verify", env=env)
    assert verified.returncode == 1, verified.stdout + verified.stderr
    broken = [line for line in verified.stdout.splitlines() if trail.chain in line]
    assert len(broken) == 1
    assert "seq 3" in broken[0]
    assert "altered" in broken[0]


@pytest.mark.broker
def test_publish_and_tail_are_protected_by_default(provisioned, tmp_path: Path) -> None:
    """No flag: `exchange publish` seals and signs, `exchange tail` verifies and opens."""
    env = {
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent),
    }
    rescue = example_json("rescue")
    rescue["rescueId"] = f"R-{uuid.uuid4().hex[:8]}"
    health_text = f"CanaryCli{uuid.uuid4().hex[:8]}"
    rescue["victims"][0]["situationDetails"] = health_text
    file = tmp_path / "rescue.json"
    file.write_text(json.dumps(rescue), encoding="utf-8")
    published = run_cli("publish", "rescue", str(file), "--as", "police", env=env)
    assert published.returncode == 0, published.stderr
    event_id = published.stdout.split("id=")[1].split()[0]

    def tail_as(agency: str, *extra: str) -> dict:
        tail = run_cli("tail", "exchange.rescue", "--as", agency, "--timeout", "5", *extra, env=env)
        assert tail.returncode == 0, tail.stderr
        lines = [json.loads(line) for line in tail.stdout.splitlines()]
        mine = [line for line in lines if line.get("ce", {}).get("id") == event_id]
        errors = [line["error"]["reason"] for line in lines if "error" in line]
        assert len(mine) == 1, (agency, extra, errors)
        return mine[0]

    victim = tail_as("health")["data"]["victims"][0]
    assert victim["situationDetails"] == health_text
    assert victim["familyContact"] == "<protected>"  # contact, family: not health's
    hr = tail_as("human-resources")
    assert hr["signer"] == "police"
    assert hr["data"]["victims"][0]["situationDetails"] == "<protected>"
    assert hr["data"]["victims"][0]["person"]["name"] == rescue["victims"][0]["person"]["name"]
    # Unprotected, the record's placeholders break the event's rules: an error line, no value.
    plain = run_cli(
        "tail", "exchange.rescue", "--as", "health", "--timeout", "5", "--unprotected", env=env
    )
    assert plain.returncode == 0, plain.stderr
    assert "WARNING: INSECURE: --unprotected" in plain.stderr
    assert health_text not in plain.stdout
    assert '"invalid-event"' in plain.stdout


@pytest.mark.broker
def test_an_unsigned_event_is_refused_by_every_protected_reader(
    provisioned, tmp_path: Path
) -> None:
    """`exchange publish --unprotected` warns loudly and sends in the clear; `exchange tail`
    (protected by default) shows the record as refused, reason ``unsigned``."""
    env = {
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent),
    }
    rescue = example_json("rescue")
    rescue["rescueId"] = f"R-{uuid.uuid4().hex[:8]}"
    file = tmp_path / "rescue.json"
    file.write_text(json.dumps(rescue), encoding="utf-8")
    published = run_cli(
        "publish", "rescue", str(file), "--as", "police", "--unprotected", env=env
    )
    assert published.returncode == 0, published.stderr
    assert "WARNING: INSECURE: --unprotected" in published.stderr
    assert "UNPROTECTED" in published.stderr  # the publisher's own warning, as it starts
    offset = int(published.stdout.rsplit("@", 1)[1])
    tail = run_cli("tail", "exchange.rescue", "--as", "health", "--timeout", "5", env=env)
    assert tail.returncode == 0, tail.stderr
    mine = [
        line for line in map(json.loads, tail.stdout.splitlines())
        if line["offset"] == offset and published.stdout.split("[")[1].startswith(
            f"{line['partition']}]"
        )
    ]
    assert len(mine) == 1
    assert mine[0]["error"]["reason"] == "unsigned"
    assert "data" not in mine[0]


def test_an_agency_without_keys_is_told_the_command_to_run(tmp_path: Path) -> None:
    file = tmp_path / "rescue.json"
    file.write_text(json.dumps(example_json("rescue")), encoding="utf-8")
    done = run_cli(
        "publish", "rescue", str(file), "--as", "police",
        env={"EXCHANGE_STATE_DIR": str(tmp_path / "empty-state")},
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "exchange keys init --agency police" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.broker
async def test_the_protected_codec_learns_keys_from_the_bus_once_a_root_is_pinned(
    provisioned, codec: EventCodec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `exchange tail` and the worker use: with a root pinned in trust.toml, an
    agency's codec verifies and opens with keys from exchange.keys and its own folder alone."""
    root = RootKey.create(tmp_path / "office")
    police = Host(provisioned, codec, "police", tmp_path / "a" / "keys", root.fingerprint)
    civil_state = tmp_path / "b"
    civil_keys = FileKeyStore(civil_state / "keys")
    civil_keys.init(["civil-affairs"])
    await request_certification(police.kafka, police.store, "police")
    await request_certification(provisioned.kafka_as("civil-affairs"), civil_keys, "civil-affairs")
    await certify_requests(  # `only`: other tests' hosts asked for police keys before
        provisioned.kafka_as("joint-meeting-office"), root, ["police", "civil-affairs"],
        only=["police.sig.1", "police.enc.1", "civil-affairs.sig.1", "civil-affairs.enc.1"],
    )
    tag = uuid.uuid4().hex[:8]
    await police.follower.start()
    try:
        encoded = police.protected().encode(report(tag), source=SOURCE, readers=["civil-affairs"])
        position = await publish(police, encoded)
    finally:
        await police.follower.stop()
    principal = provisioned.topology.principal_of("civil-affairs")
    monkeypatch.setenv("EXCHANGE_STATE_DIR", str(civil_state))
    monkeypatch.setenv("EXCHANGE_KAFKA__BOOTSTRAP_SERVERS", provisioned.broker.bootstrap)
    monkeypatch.setenv("EXCHANGE_KAFKA__SSL_CAFILE", str(provisioned.broker.admin.ssl_cafile))
    monkeypatch.setenv("EXCHANGE_KAFKA__USERNAME", principal)
    monkeypatch.setenv("EXCHANGE_KAFKA__PASSWORD", provisioned.credentials.password_for(principal))
    context.settings.cache_clear()
    try:
        unpinned = protection_cmd.protected_codec(codec, "civil-affairs")  # the folder alone
        record = await read_at(provisioned.kafka_as("civil-affairs"), position)
        with pytest.raises(VerificationError) as refused:
            unpinned.decode(record.key, record.value, record.headers, position)
        assert refused.value.reason == "unknown-key"  # police's public key is not in b/
        monkeypatch.setattr(context, "trust", lambda: Trust(root.fingerprint))
        protected = protection_cmd.protected_codec(codec, "civil-affairs")
        opened = protected.decode(record.key, record.value, record.headers, position)
        assert opened.signer == "police"
        assert opened.decoded.event.missingPerson.name == f"Name{tag}"
    finally:
        protection_cmd.stop_key_followers()
        context.settings.cache_clear()
