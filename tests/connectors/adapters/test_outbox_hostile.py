"""Outbox relay against hostile rows on the real broker: a payload nested too deep, or stored as
text that is not UTF-8, is dead-lettered alone and the rows after it are still published."""

from __future__ import annotations

import json
import sqlite3

import pytest

from connectors.adapters.outbox import OutboxSource
from tests.connectors.adapters.test_outbox import _start, _until, outbox, rescue, rescue_ids

pytestmark = pytest.mark.broker
__all__ = ["outbox"]  # the fixture, used by name


async def test_deep_and_undecodable_payloads_are_dead_lettered_alone(harness, outbox) -> None:
    config, db = outbox
    await _start(harness, config)
    deep = '{"a": ' * 100_000 + "1" + "}" * 100_000  # RecursionError in json.loads
    db.insert([("rescue", rescue(11)), ("rescue", deep)])
    if db.kind == "sqlite":  # SQLite keeps any bytes as TEXT; PostgreSQL refuses them itself
        gbk = json.dumps({"note": "西安"}, ensure_ascii=False).encode("gbk")
        with sqlite3.connect(db.where) as raw:
            raw.execute(
                f"INSERT INTO {db.table} (event_type, payload) VALUES (?, CAST(? AS TEXT))",  # noqa: S608
                ("rescue", gbk),
            )
    db.insert([("rescue", rescue(14))])
    bad = 2 if db.kind == "sqlite" else 1
    async with harness.running(OutboxSource(config, harness.context)):
        got = await harness.read(
            "exchange.rescue", agency="civil-affairs", count=2, source=config.ce_source
        )
        dead = await harness.read(
            "exchange.deadletter.police",
            agency="operators",
            count=bad,
            where=lambda r: r.headers.get("exchange.connector.name") == config.name,
        )
        await _until(lambda: db.unpublished() == 0)
    assert rescue_ids(got) == ["RS-OB-0011", "RS-OB-0014"]
    dead.sort(key=lambda r: r.headers["exchange.source.position"])
    messages = [r.headers["exchange.error.message"] for r in dead]
    assert "json_depth" in messages[0]
    if db.kind == "sqlite":
        assert "[encoding]" in messages[1]
        assert dead[1].record.value == gbk  # kept as stored, not garbled
