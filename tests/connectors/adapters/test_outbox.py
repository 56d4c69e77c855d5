"""Outbox source against the real broker, with SQLite and a real PostgreSQL: rows published
once in order, bad payloads dead-lettered, restarts and a database outage lose nothing."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from connectors.adapters.outbox import OutboxConfig, OutboxSource
from connectors.sdk.testing import ConnectorHarness
from exchange.examples import example_json

pytestmark = pytest.mark.broker


def rescue(number: int) -> str:
    return json.dumps(dict(example_json("rescue"), rescueId=f"RS-OB-{number:04d}"))


class Db:
    """Inserts rows into the agency's outbox, as the agency system would."""

    def __init__(self, kind: str, where: str, table: str) -> None:
        self.kind, self.where, self.table = kind, where, table

    def insert(self, rows: list[tuple[str, str]]) -> None:
        sql = f"INSERT INTO {self.table} (event_type, payload) VALUES "  # noqa: S608
        if self.kind == "sqlite":
            with sqlite3.connect(self.where) as db:
                db.executemany(sql + "(?, ?)", rows)
        else:
            with psycopg.connect(self.where, autocommit=True) as db:
                db.cursor().executemany(sql + "(%s, %s)", rows)

    def unpublished(self) -> int:
        sql = f"SELECT count(*) FROM {self.table} WHERE published_at IS NULL"  # noqa: S608
        if self.kind == "sqlite":
            with sqlite3.connect(self.where) as db:
                return int(db.execute(sql).fetchone()[0])
        with psycopg.connect(self.where) as db:
            row = db.execute(sql).fetchone()
            assert row is not None
            return int(row[0])


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox(request, harness: ConnectorHarness, tmp_path: Path) -> tuple[OutboxConfig, Db]:
    name = harness.unique_name("outbox")
    table = f"outbox_{name.replace('-', '_')}"
    if request.param == "sqlite":
        where: dict[str, Any] = {"path": tmp_path / "agency.sqlite"}
        db = Db("sqlite", str(where["path"]), table)
    else:
        dsn = request.getfixturevalue("postgres").dsn
        where, db = {"dsn": dsn}, Db("postgresql", dsn, table)
    config = harness.config(
        OutboxConfig,
        kind="outbox",
        name=name,
        agency="police",
        database=request.param,
        table=table,
        create_table=True,
        poll_interval_s=0.1,
        batch_rows=5,
        retry={"initial_backoff_s": 0.1, "max_backoff_s": 0.5, "max_attempts": 20},
        **where,
    )
    return config, db


async def _start(harness: ConnectorHarness, config: OutboxConfig) -> None:
    """Create the table (as the agency's migration would) by running the relay once."""
    source = OutboxSource(config, harness.context)
    await source.setup()
    try:
        assert await source.poll() == []
    finally:
        await source.close()


def rescue_ids(got: list[Any]) -> list[str]:
    return [r.decoded.event.rescueId for r in got if r.decoded]


async def _until(predicate: Callable[[], bool], within: float = 30) -> None:
    for _ in range(int(within * 10)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached")


async def test_rows_are_published_in_order_and_marked(harness, outbox) -> None:
    config, db = outbox
    await _start(harness, config)
    db.insert([("rescue", rescue(n)) for n in range(12)])
    async with harness.running(OutboxSource(config, harness.context)):
        got = await harness.read(
            "exchange.rescue", agency="civil-affairs", count=12, source=config.ce_source, settle=2
        )
        await _until(lambda: db.unpublished() == 0)
    # one case key (the example's caseId), so one partition: the outbox's order is kept
    assert rescue_ids(got) == [f"RS-OB-{n:04d}" for n in range(12)]
    assert [r.headers["ce_id"] for r in got][:2] == ["outbox-1", "outbox-2"]


async def test_bad_payloads_are_dead_lettered_and_do_not_block(harness, outbox) -> None:
    config, db = outbox
    await _start(harness, config)
    broken = json.loads(rescue(2))
    broken["rescuedAt"] = "yesterday"
    db.insert(
        [
            ("rescue", rescue(1)),
            ("rescue", json.dumps(broken)),
            ("no-such-event", "{}"),
            ("rescue", "[1]"),
            ("rescue", rescue(5)),
        ]
    )
    async with harness.running(OutboxSource(config, harness.context)):
        got = await harness.read(
            "exchange.rescue", agency="civil-affairs", count=2, source=config.ce_source
        )
        dead = await harness.read(
            "exchange.deadletter.police",
            agency="operators",
            count=3,
            where=lambda r: r.headers.get("exchange.connector.name") == config.name,
        )
    assert rescue_ids(got) == ["RS-OB-0001", "RS-OB-0005"]
    dead.sort(key=lambda r: r.headers["exchange.source.position"])
    assert [r.headers["exchange.source.position"] for r in dead] == [
        "outbox:2",
        "outbox:3",
        "outbox:4",
    ]
    assert {r.headers["exchange.error.reason"] for r in dead} == {"invalid-event"}
    assert "rescuedAt" in dead[0].headers["exchange.error.message"]
    assert dead[0].record.value == json.dumps(broken).encode()
    assert db.unpublished() == 0


async def test_restart_mid_stream_neither_loses_nor_repeats(harness, outbox) -> None:
    config, db = outbox
    await _start(harness, config)
    db.insert([("rescue", rescue(n)) for n in range(13)])
    first = OutboxSource(config, harness.context)
    await first.setup()
    try:
        await first.publish(await first.poll())  # one batch of 5, then the process stops
    finally:
        await first.close()
    assert db.unpublished() == 8
    async with harness.running(OutboxSource(config, harness.context)):
        got = await harness.read(
            "exchange.rescue", agency="civil-affairs", count=13, source=config.ce_source, settle=3
        )
    assert rescue_ids(got) == [f"RS-OB-{n:04d}" for n in range(13)]


async def test_postgres_down_then_back_loses_and_repeats_nothing(harness, postgres) -> None:
    name = harness.unique_name("outbox")
    table = f"outbox_{name.replace('-', '_')}"
    config = harness.config(
        OutboxConfig,
        kind="outbox",
        name=name,
        agency="police",
        database="postgresql",
        dsn=postgres.dsn,
        table=table,
        create_table=True,
        poll_interval_s=0.1,
        retry={"initial_backoff_s": 0.2, "max_backoff_s": 1},
    )
    db = Db("postgresql", postgres.dsn, table)
    await _start(harness, config)
    db.insert([("rescue", rescue(n)) for n in range(5)])
    source = OutboxSource(config, harness.context)
    async with harness.running(source):
        await _until(lambda: db.unpublished() == 0)
        await asyncio.to_thread(postgres.stop)
        await asyncio.sleep(2)  # the relay polls a database that is gone
        await asyncio.to_thread(postgres.start)
        db.insert([("rescue", rescue(n)) for n in range(5, 10)])
        await _until(lambda: db.unpublished() == 0)
        got = await harness.read(
            "exchange.rescue", agency="civil-affairs", count=10, source=config.ce_source, settle=2
        )
    assert rescue_ids(got) == [f"RS-OB-{n:04d}" for n in range(10)]
    assert (
        harness.metric("exchange_connector_errors_total", connector=name, error="ConnectionError")
        >= 1
    )
