"""File-drop source against hostile files on the real broker: a file that cannot be read is
that file's error report (line, column, rule) and the connector goes on with the next files; a
file in another encoding is refused or decoded as declared, never published garbled."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from connectors.adapters.file_drop import FileDropSource
from tests.connectors.adapters.test_file_drop import _until, config, flatten, sighting

pytestmark = pytest.mark.broker


def csv_bytes(rows: list[dict[str, Any]], encoding: str = "utf-8") -> bytes:
    flat = [flatten(row) for row in rows]
    columns = sorted({column for row in flat for column in row})
    lines = [",".join(columns)]
    for row in flat:
        lines.append(",".join(_cell(row.get(c, "")) for c in columns))
    return ("\n".join(lines) + "\n").encode(encoding)


def _cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def report(inbox: Path, name: str) -> list[dict[str, Any]]:
    text = (inbox / "processed" / f"{name}.errors.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


async def test_unreadable_files_become_reports_and_later_files_still_go(harness, tmp_path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    deep = '{"a": ' * 100_000 + "1" + "}" * 100_000  # RecursionError in json.loads
    lines = [deep, json.dumps(sighting(1))]
    (inbox / "a-deep.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    huge = sighting(2)
    huge["situation"] = "x" * (csv.field_size_limit() + 10)  # over the csv module's field limit
    (inbox / "b-huge.csv").write_bytes(csv_bytes([sighting(3), huge]))
    (inbox / "c-fine.csv").write_bytes(csv_bytes([sighting(4)]))
    cfg = config(harness, inbox)
    async with harness.running(FileDropSource(cfg, harness.context)):
        await _until((inbox / "processed" / "c-fine.csv").exists)
        got = await harness.read(
            "exchange.sighting", agency="police", count=2, source=cfg.ce_source, settle=2
        )
    ids = sorted(r.decoded.event.sightingId for r in got if r.decoded)  # type: ignore[attr-defined]
    assert ids == ["FD-0001", "FD-0004"]  # nothing of b-huge.csv: it is refused whole
    deep_report = report(inbox, "a-deep.jsonl")
    assert [(r["row"], r["errors"][0]["rule"]) for r in deep_report] == [(1, "json_depth")]
    (huge_report,) = report(inbox, "b-huge.csv")
    assert huge_report["errors"][0]["rule"] == "csv_syntax"
    assert huge_report["line"] == 3
    assert "field limit" in huge_report["errors"][0]["message"]
    assert (inbox / "processed" / "b-huge.csv").exists()


async def test_gbk_file_is_refused_with_row_and_column_under_utf8(harness, tmp_path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "gbk.csv").write_bytes(csv_bytes([sighting(5)], "gbk"))
    cfg = config(harness, inbox)
    async with harness.running(FileDropSource(cfg, harness.context)):
        await _until((inbox / "processed" / "gbk.csv").exists)
        got = await harness.read(
            "exchange.sighting", agency="police", count=1, source=cfg.ce_source, within=3
        )
    assert got == []  # nothing published garbled
    (entry,) = report(inbox, "gbk.csv")
    assert (entry["row"], entry["line"]) == (1, 2)
    assert entry["column"] > 1
    error = entry["errors"][0]
    assert (error["field"], error["rule"]) == ("location.address", "encoding")
    assert "gb18030" in error["message"]


async def test_gbk_file_is_decoded_when_its_encoding_is_declared(harness, tmp_path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "gbk.csv").write_bytes(csv_bytes([sighting(6)], "gbk"))
    cfg = config(harness, inbox, encoding="gb18030")
    async with harness.running(FileDropSource(cfg, harness.context)):
        await _until((inbox / "processed" / "gbk.csv").exists)
        got = await harness.read(
            "exchange.sighting", agency="police", count=1, source=cfg.ce_source
        )
    assert got[0].decoded is not None
    event = got[0].decoded.event
    assert event.location.address == sighting(6)["location"]["address"]  # type: ignore[attr-defined]
    assert not list(inbox.rglob("*.errors.jsonl"))


async def test_short_csv_row_report_says_how_many_cells_it_found(harness, tmp_path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = csv_bytes([sighting(7)]).decode()
    header, row = good.splitlines()
    short = row.rsplit(",", 2)[0]
    (inbox / "short.csv").write_text(f"{header}\n{short}\n", encoding="utf-8")
    cfg = config(harness, inbox)
    async with harness.running(FileDropSource(cfg, harness.context)):
        await _until((inbox / "processed" / "short.csv").exists)
    (entry,) = report(inbox, "short.csv")
    width = len(header.split(","))
    assert entry["errors"][0]["rule"] == "csv_columns"
    assert entry["errors"][0]["message"].startswith(f"found {width - 2} cells, expected {width}")


async def test_a_file_over_the_size_limit_is_refused_unread(harness, tmp_path) -> None:
    """A file is read into memory: one larger than ``max_file_bytes`` is that file's error
    report (nothing of it published) and the next file still goes."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = "".join(json.dumps(sighting(n)) + "\n" for n in range(10, 20))
    (inbox / "a-big.jsonl").write_text(rows, encoding="utf-8")
    (inbox / "b-fine.jsonl").write_text(json.dumps(sighting(5)) + "\n", encoding="utf-8")
    cfg = config(harness, inbox, max_file_bytes=len(rows.encode()) - 1)
    async with harness.running(FileDropSource(cfg, harness.context)):
        await _until((inbox / "processed" / "b-fine.jsonl").exists)
        got = await harness.read(
            "exchange.sighting", agency="police", count=1, source=cfg.ce_source, settle=2
        )
    assert [r.decoded.event.sightingId for r in got if r.decoded] == ["FD-0005"]  # type: ignore[attr-defined]
    (big,) = report(inbox, "a-big.jsonl")
    assert big["errors"][0]["rule"] == "file_too_large"
    assert str(len(rows.encode())) in big["errors"][0]["message"]
    assert (inbox / "processed" / "a-big.jsonl").exists()
