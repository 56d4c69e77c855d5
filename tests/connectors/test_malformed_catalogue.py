"""The acceptance test of issue 13: the same catalogue of malformed inputs (malformed.py) fed
to every entry point. Each must answer with a one-line error or an error report naming field
and rule, publish nothing it should not, and keep running.

Entry points: CLI publish, the HTTP gateway, the file drop, the outbox relay (a real
PostgreSQL, rows inserted as an agency system would), and the EventConsumer (for the breaks
Avro can carry).
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from fastavro import schemaless_writer
from prometheus_client import CollectorRegistry

from connectors.adapters.file_drop import FileDropSource
from connectors.adapters.http_gateway import HttpGateway
from connectors.adapters.outbox import OutboxConfig, OutboxSource
from exchange.client.consumer import EventConsumer
from exchange.codec import SINGLE_OBJECT_MARKER, DecodedEvent, EventCodec
from exchange.codec.unions import union_hinter
from exchange.examples import example_json
from exchange.metrics import BusMetrics
from exchange.models.exceptions import validate_event
from exchange.models.sightings import TransportSighting
from exchange.schemas.catalogue import Catalogue
from tests.cli.test_cli import run_cli
from tests.client.test_dead_letter import read_dead_letters
from tests.connectors.adapters.test_file_drop import config as drop_config
from tests.connectors.adapters.test_http_gateway import gateway_config, post
from tests.connectors.adapters.test_outbox import Db, _start, _until
from tests.connectors.malformed import CATALOGUE, Row, broken

TOPIC = "exchange.sighting"


def rows(entry: str) -> list[Any]:
    return [
        pytest.param(row, id=row.id, marks=[pytest.mark.xfail(
            strict=True, reason="the other hardening branch (issue 13, defects 4-6) fixes it",
        )] if entry in row.theirs else [])
        for row in CATALOGUE
    ]


@pytest.mark.parametrize("row", rows("cli"))
def test_cli_publish(row: Row, tmp_path: Path) -> None:
    body = json.dumps(broken(row, f"MAL-{row.id}")) if row.id != "deeply-nested" else (
        "[" * 100_000 + "]" * 100_000)
    done = run_cli(
        "publish", "transport-sighting", "-", "--as", "transport", stdin=body,
        env={"EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:9",  # nothing can be sent
             "EXCHANGE_STATE_DIR": str(tmp_path)},
    )
    # unreadable input (JSON nested too deep) is a usage error (2); a broken event is 1
    assert done.returncode == (2 if row.id == "deeply-nested" else 1), done.stderr
    assert "Traceback" not in done.stderr
    assert f"[{row.rule}]" in done.stderr
    if row.id == "deeply-nested":  # refused while reading, before there is an event
        assert len(done.stderr.strip().splitlines()) == 1
        return
    assert "refused, nothing sent" in done.stderr
    assert f"{row.field or '<value>'}:" in done.stderr


@pytest.mark.broker
async def test_gateway(harness) -> None:
    gateway_cfg = gateway_config(harness, harness.unique_name("gw"))
    gateway = HttpGateway(gateway_cfg, harness.context)
    run = uuid.uuid4().hex[:8]
    failures: list[str] = []
    async with harness.running(gateway):
        await harness.until(lambda: gateway.port)
        for row in CATALOGUE:
            try:
                status, body, _ = await post(
                    gateway, "/v1/events/transport-sighting",
                    broken(row, f"MAL-{run}-{row.id}"),
                )
            except Exception as error:  # noqa: BLE001 - reported below, row by row
                status, body = 0, {"exception": repr(error)[:200]}
            named = [(e.get("field"), e.get("rule")) for e in body.get("errors", [])]
            refused = status == 422 and (row.field, row.rule) in named
            if not refused and "gateway" not in row.theirs:
                failures.append(f"{row.id}: {status} {body}")
        good = await post(gateway, "/v1/events/transport-sighting",
                          dict(example_json("transport-sighting"), sightingId=f"OK-{run}"))
        assert good[0] == 202, "the gateway stopped accepting after the catalogue"
        published = await harness.read(
            TOPIC, agency="police", count=2,
            source=f"/agencies/transport/t/{gateway_cfg.name}", within=5,
        )
    assert failures == []
    ids = [r.decoded.event.sightingId for r in published if r.decoded is not None]
    assert ids == [f"OK-{run}"], ids


@pytest.mark.broker
async def test_file_drop(harness, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    cfg = drop_config(harness, inbox)
    run = uuid.uuid4().hex[:8]
    lines = []
    for row in CATALOGUE:
        if "file-drop" in row.theirs:
            continue  # it would stop the connector until the other branch lands (defect 4)
        lines.append(json.dumps(broken(row, f"MAL-{run}-{row.id}"), ensure_ascii=False))
    lines.append(json.dumps(dict(example_json("transport-sighting"), sightingId=f"OK-{run}")))
    (inbox / "catalogue.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = FileDropSource(cfg, harness.context)
    async with harness.running(source):
        report = inbox / "processed" / "catalogue.jsonl.errors.jsonl"
        await harness.until(report.exists, within=60)
        published = await harness.read(
            TOPIC, agency="police", count=2, source=cfg.ce_source, within=5
        )
        (inbox / "second.jsonl").write_text(
            json.dumps(dict(example_json("transport-sighting"), sightingId=f"OK2-{run}")) + "\n",
            encoding="utf-8",
        )
        await harness.until((inbox / "processed" / "second.jsonl").exists, within=60)
    reported = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    kept = [row for row in CATALOGUE if "file-drop" not in row.theirs]
    assert len(reported) == len(kept)
    for row, line in zip(kept, reported, strict=True):
        named = [(e["field"], e["rule"]) for e in line["errors"]]
        assert (row.field, row.rule) in named, (row.id, line)
    ids = [r.decoded.event.sightingId for r in published if r.decoded is not None]
    assert ids == [f"OK-{run}"], ids


def _as_text(row: Row, sighting_id: str) -> str:
    """The row as the JSON text a client sends (a nesting too deep to build as Python data is
    written as text, as the CLI test does)."""
    if row.id == "deeply-nested":
        return "[" * 100_000 + "]" * 100_000
    return json.dumps(broken(row, sighting_id), ensure_ascii=False)


@pytest.mark.broker
async def test_outbox(harness, postgres) -> None:
    name = harness.unique_name("outbox")
    table = f"outbox_{name.replace('-', '_')}"
    cfg = harness.config(
        OutboxConfig, kind="outbox", name=name, agency="transport", database="postgresql",
        dsn=postgres.dsn, table=table, create_table=True, poll_interval_s=0.1, batch_rows=5,
    )
    db = Db("postgresql", postgres.dsn, table)
    run = uuid.uuid4().hex[:8]
    await _start(harness, cfg)  # creates the table, as the agency's migration would
    db.insert([("transport-sighting", _as_text(row, f"MAL-{run}-{row.id}")) for row in CATALOGUE])
    good = dict(example_json("transport-sighting"), sightingId=f"OK-{run}")
    db.insert([("transport-sighting", json.dumps(good))])
    async with harness.running(OutboxSource(cfg, harness.context)):
        published = await harness.read(
            TOPIC, agency="police", count=2, source=cfg.ce_source, within=30, settle=1,
        )
        dead = await harness.read(
            "exchange.deadletter.transport", agency="operators", count=len(CATALOGUE),
            where=lambda r: r.headers.get("exchange.connector.name") == name, within=30,
        )
        await _until(lambda: db.unpublished() == 0)
        # still running: a row written after the catalogue is published too
        db.insert([("transport-sighting", json.dumps(dict(good, sightingId=f"OK2-{run}")))])
        later = await harness.read(TOPIC, agency="police", count=2, source=cfg.ce_source)
    ids = [r.decoded.event.sightingId for r in published if r.decoded is not None]
    assert ids == [f"OK-{run}"], ids
    # two case keys, so maybe two partitions: no order between them
    assert sorted(r.decoded.event.sightingId for r in later if r.decoded) == [
        f"OK-{run}", f"OK2-{run}"
    ]
    dead.sort(key=lambda r: int(r.headers["exchange.source.position"].removeprefix("outbox:")))
    assert len(dead) == len(CATALOGUE)
    for row, record in zip(CATALOGUE, dead, strict=True):
        message = record.headers["exchange.error.message"]
        assert record.headers["exchange.error.reason"] == "invalid-event", (row.id, message)
        assert f"[{row.rule}]" in message, (row.id, message)
        if row.field:
            assert f"{row.field}: " in message, (row.id, message)
        assert "Traceback" not in message
        assert record.record.value == _as_text(row, f"MAL-{run}-{row.id}").encode()


def _avro(row: Row, data: dict[str, Any]) -> bytes:
    """A valid sighting's Avro record with the row's field broken as in ``data``: what an
    outside producer that does not check the rules would send."""
    latest = Catalogue.load().latest("exchange.events.TransportSighting")
    record = VALID.model_dump()
    record["sightingId"] = data["sightingId"]
    value: Any = data
    for part in row.field.split("."):
        value = value[part]
    if row.field.endswith("At"):
        value = datetime.fromisoformat(value)
    node = record
    *parents, last = row.field.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    hinter = union_hinter(latest.schema)
    body = io.BytesIO()
    schemaless_writer(body, latest.parsed, hinter(record) if hinter is not None else record)
    return SINGLE_OBJECT_MARKER + latest.fingerprint + body.getvalue()


VALID = validate_event(TransportSighting, example_json("transport-sighting"))


@pytest.mark.broker
async def test_event_consumer(provisioned, codec: EventCodec) -> None:
    run = uuid.uuid4().hex[:8]
    good = codec.encode(
        VALID.model_copy(update={"sightingId": f"OK-{run}"}),
        source="/agencies/transport/mal",
    )
    sent: dict[tuple[int, int], Row] = {}
    signer = provisioned.protection_for("transport").signer  # signed by a writer: past the
    producer = AIOKafkaProducer(**provisioned.kafka_as("transport").aiokafka_kwargs())

    async def send(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
        signature = signer.headers([(key, value, headers)])  # verification, into the decoder
        return await producer.send_and_wait(TOPIC, value, key=key, headers=headers + signature)

    await producer.start()
    try:
        for row in CATALOGUE:
            if not row.in_avro:
                continue
            data = broken(row, f"MAL-{run}-{row.id}")
            headers = [(k, data["sightingId"].encode() if k == "ce_subject" else v)
                       for k, v in good.headers if k != "ce_id"]
            headers.append(("ce_id", f"mal-{run}-{row.id}".encode()))
            meta = await send(data["sightingId"].encode(), _avro(row, data), headers)
            sent[(meta.partition, meta.offset)] = row
        await send(good.key, good.value, list(good.headers))
    finally:
        await producer.stop()

    handled: list[str] = []

    async def handle(decoded: DecodedEvent, record: ConsumerRecord) -> None:
        handled.append(decoded.event.sightingId)  # type: ignore[attr-defined]

    deadletter = provisioned.topology.deadletter_topic("police").name
    consumer = EventConsumer(
        provisioned.kafka_as("police"), codec, [TOPIC], agency="police",
        group_id=f"police.test.{uuid.uuid4().hex[:8]}", deadletter_topic=deadletter,
        metrics=BusMetrics.on(CollectorRegistry()),
        protection=provisioned.protection_for("police"),
    )
    await consumer.start()
    try:
        for _ in range(200):
            if f"OK-{run}" in handled:
                break
            await consumer.poll_once(handle, timeout_ms=300)
    finally:
        await consumer.stop()
    assert f"OK-{run}" in handled, "the consumer did not go on after the catalogue"
    assert not [i for i in handled if i.startswith(f"MAL-{run}")]
    found, _ = await read_dead_letters(provisioned.broker.admin, deadletter, set(sent))
    for where, row in sent.items():
        headers = found[where]
        assert headers["exchange.error.reason"] == "invalid-event", (row.id, headers)
        assert f"{row.field}: " in headers["exchange.error.message"], row.id
        assert f"[{row.rule}]" in headers["exchange.error.message"], row.id
