"""The same catalogue of malformed inputs (tests/support/malformed.py) at every entry point that
reads outside input: each answers with a one-line error or an error report naming the rule,
publishes nothing of it, and keeps running (a valid input after it is still published)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from support.malformed import CATALOGUE, IDS, Malformed

from connectors.adapters.file_drop import FileDropSource
from connectors.adapters.http_gateway import HttpGateway
from connectors.adapters.outbox import OutboxConfig, OutboxSource
from exchange.examples import example_json
from tests.cli.test_cli import run_cli
from tests.cli.test_cli_errors import one_line_error
from tests.connectors.adapters.test_file_drop import _until, config
from tests.connectors.adapters.test_http_gateway import TOKEN, gateway_config, trusting


@pytest.mark.parametrize("bad", CATALOGUE, ids=IDS)
def test_cli_publish(tmp_path: Path, bad: Malformed) -> None:
    file = tmp_path / "event.json"
    file.write_bytes(bad.content)
    done = run_cli("publish", "transport-sighting", str(file), "--as", "transport")
    one_line_error(done, f"[{bad.rule}]")


@pytest.mark.broker
async def test_http_gateway(harness) -> None:
    cfg = gateway_config(harness, harness.unique_name("gw"))
    gateway = HttpGateway(cfg, harness.context)
    answers = {}
    async with harness.running(gateway):
        await harness.until(lambda: gateway.port)
        url = f"https://127.0.0.1:{gateway.port}/v1/events/transport-sighting"
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        tls = aiohttp.TCPConnector(ssl=trusting(gateway))
        async with aiohttp.ClientSession(connector=tls) as session:
            for bad in CATALOGUE:
                async with session.post(url, data=bad.content, headers=headers) as response:
                    answers[bad.name] = (response.status, await response.json())
            good = json.dumps(example_json("transport-sighting")).encode()
            async with session.post(url, data=good, headers=headers) as response:
                assert response.status == 202
        got = await harness.read(
            "exchange.sighting", agency="police", count=1,
            source=f"/agencies/transport/t/{cfg.name}", settle=2
        )
    assert len(got) == 1  # the valid one only
    for bad in CATALOGUE:
        status, body = answers[bad.name]
        assert 400 <= status < 500, (bad.name, status, body)
        assert [e["rule"] for e in body["errors"]] == [bad.rule], (bad.name, body)


@pytest.mark.broker
async def test_file_drop(harness, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for bad in CATALOGUE:
        (inbox / f"a-{bad.name}.jsonl").write_bytes(bad.content + b"\n")
    (inbox / "z-good.jsonl").write_text(json.dumps(example_json("transport-sighting")) + "\n")
    cfg = config(harness, inbox)
    async with harness.running(FileDropSource(cfg, harness.context)):
        await _until((inbox / "processed" / "z-good.jsonl").exists)
        got = await harness.read(
            "exchange.sighting", agency="police", count=1, source=cfg.ce_source, settle=2
        )
    assert len(got) == 1
    for bad in CATALOGUE:
        report = inbox / "processed" / f"a-{bad.name}.jsonl.errors.jsonl"
        (entry,) = [json.loads(line) for line in report.read_text().splitlines()]
        assert entry["errors"][0]["rule"] == bad.rule, (bad.name, entry)


@pytest.mark.broker
async def test_outbox(harness, tmp_path: Path) -> None:
    path = tmp_path / "agency.sqlite"
    cfg = harness.config(
        OutboxConfig, kind="outbox", name=harness.unique_name("outbox"), agency="police",
        database="sqlite", path=path, table="outbox", create_table=True, poll_interval_s=0.1,
    )
    first = OutboxSource(cfg, harness.context)  # creates the table, as a migration would
    await first.setup()
    try:
        assert await first.poll() == []
    finally:
        await first.close()
    with sqlite3.connect(path) as db:
        for bad in CATALOGUE:
            db.execute(
                "INSERT INTO outbox (event_type, payload) VALUES ('rescue', CAST(? AS TEXT))",
                (bad.content,),
            )
        db.execute(
            "INSERT INTO outbox (event_type, payload) VALUES ('rescue', ?)",
            (json.dumps(example_json("rescue")),),
        )
    async with harness.running(OutboxSource(cfg, harness.context)):
        got = await harness.read(
            "exchange.rescue", agency="civil-affairs", count=1, source=cfg.ce_source
        )
        dead = await harness.read(
            "exchange.deadletter.police", agency="operators", count=len(CATALOGUE),
            where=lambda r: r.headers.get("exchange.connector.name") == cfg.name,
        )
    assert len(got) == 1
    dead.sort(key=lambda r: int(r.headers["exchange.source.position"].split(":")[1]))
    for bad, record in zip(CATALOGUE, dead, strict=True):
        assert f"[{bad.rule}]" in record.headers["exchange.error.message"] or (
            bad.rule in record.headers["exchange.error.message"]
        ), (bad.name, record.headers)
        assert record.record.value == bad.content
