"""File-drop source against the real broker: rows published once, bad rows reported beside the
input, restarts resume mid-file, a bus that cannot be reached loses nothing."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path
from typing import Any

import pytest

from connectors.adapters.file_drop import FileDropConfig, FileDropSource, nest
from connectors.sdk.testing import ConnectorHarness
from exchange.examples import example_json
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.broker


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out |= flatten(item, f"{prefix}{key}.")
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out |= flatten(item, f"{prefix}{index}.")
        return out
    return {prefix[:-1]: str(value).lower() if isinstance(value, bool) else str(value)}


def sighting(number: int) -> dict[str, Any]:
    return dict(example_json("transport-sighting"), sightingId=f"FD-{number:04d}")


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    flat = [flatten(row) for row in rows]
    columns = sorted({column for row in flat for column in row})
    part = path.with_name(path.name + ".part")
    with part.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(flat)
    part.rename(path)


def config(harness: ConnectorHarness, inbox: Path, **extra: Any) -> FileDropConfig:
    return harness.config(
        FileDropConfig,
        kind="file-drop",
        name=harness.unique_name("drop"),
        agency="transport",
        inbox=inbox,
        event_type="transport-sighting",
        poll_interval_s=0.1,
        **extra,
    )


def test_nest_builds_objects_and_lists_from_dotted_columns() -> None:
    assert nest({"a.b": "1", "c.0.d": "x", "c.1.d": "y", "e": ""}) == {
        "a": {"b": "1"},
        "c": [{"d": "x"}, {"d": "y"}],
    }


async def _until(predicate: Any, within: float = 30) -> None:
    for _ in range(int(within * 10)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached")


async def test_csv_rows_are_published_once_and_the_file_moves_to_processed(
    harness, tmp_path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_csv(inbox / "batch-1.csv", [sighting(n) for n in range(3)])
    cfg = config(harness, inbox)
    async with harness.running(FileDropSource(cfg, harness.context)):
        await _until((inbox / "processed" / "batch-1.csv").exists)
        got = await harness.read(
            "exchange.sighting", agency="police", count=3, source=cfg.ce_source, settle=2
        )
    ids = sorted(r.decoded.event.sightingId for r in got if r.decoded)  # type: ignore[attr-defined]
    assert ids == ["FD-0000", "FD-0001", "FD-0002"]
    assert got[0].decoded is not None
    assert got[0].decoded.event.location.lat == 34.3773  # type: ignore[attr-defined]
    assert not list(inbox.rglob("*.errors.jsonl"))


async def test_bad_rows_go_to_the_error_report_beside_the_input(harness, tmp_path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bad = sighting(2)
    bad["location"]["lat"] = 123.0
    lines = [json.dumps(sighting(1)), json.dumps(bad), "{not json", json.dumps(sighting(4))]
    (inbox / "rows.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = config(harness, inbox)
    async with harness.running(FileDropSource(cfg, harness.context)):
        await _until((inbox / "processed" / "rows.jsonl").exists)
        got = await harness.read(
            "exchange.sighting", agency="police", count=2, source=cfg.ce_source, settle=2
        )
    assert sorted(r.decoded.event.sightingId for r in got if r.decoded) == [  # type: ignore[attr-defined]
        "FD-0001",
        "FD-0004",
    ]
    report = [
        json.loads(line)
        for line in (inbox / "processed" / "rows.jsonl.errors.jsonl").read_text().splitlines()
    ]
    assert [(r["row"], r["errors"][0]["field"], r["errors"][0]["rule"]) for r in report] == [
        (2, "location.lat", "wgs84_latitude"),
        (3, "", "json_syntax"),
    ]
    refused = harness.metric(
        "exchange_connector_records_total", connector=cfg.name, outcome="refused"
    )
    assert refused == 2


async def test_restart_mid_file_neither_loses_nor_repeats_rows(harness, tmp_path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_csv(inbox / "big.csv", [sighting(n) for n in range(25)])
    cfg = config(harness, inbox, batch_rows=10)
    first = FileDropSource(cfg, harness.context)
    await first.setup()
    try:
        await first.publish(await first.poll())  # one batch of 10, then the process "dies"
    finally:
        await first.close()
    assert (inbox / "big.csv").exists()
    async with harness.running(FileDropSource(cfg, harness.context)):
        await _until((inbox / "processed" / "big.csv").exists)
        got = await harness.read(
            "exchange.sighting", agency="police", count=25, source=cfg.ce_source, settle=3
        )
    ids = [r.decoded.event.sightingId for r in got if r.decoded]  # type: ignore[attr-defined]
    assert sorted(ids) == [f"FD-{n:04d}" for n in range(25)]


async def test_bus_unreachable_then_back_publishes_every_row_once(harness, tmp_path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_csv(inbox / "late.csv", [sighting(n) for n in range(5)])
    cfg = config(harness, inbox)
    down = ConnectorHarness(
        lambda agency: KafkaSettings(bootstrap_servers="127.0.0.1:9").with_principal("x", "y"),
        harness.topology,
        harness.codec,
        harness.state_dir,
        harness.protection_for,
    )
    with pytest.raises(Exception, match=r"(?i)connect|bootstrap"):
        async with down.running(FileDropSource(cfg, down.context)):
            await asyncio.sleep(1)
    assert (inbox / "late.csv").exists()  # nothing marked done
    async with harness.running(FileDropSource(cfg, harness.context)):
        await _until((inbox / "processed" / "late.csv").exists)
        got = await harness.read(
            "exchange.sighting", agency="police", count=5, source=cfg.ce_source, settle=2
        )
    assert len(got) == 5
    assert len({r.headers["ce_id"] for r in got}) == 5
