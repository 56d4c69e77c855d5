"""File-drop source: CSV or JSON-lines batches dropped in a folder, one event per row.

Many offices exchange data as spreadsheet exports. Each file in ``inbox`` matching ``pattern``
holds rows of one ``event_type``: JSON lines (``.jsonl``/``.ndjson``, one event object per
line) or CSV with a header row whose column names are the event's field paths, dotted for
nested fields and list items (``location.lat``, ``suspectedPersons.0.gender``); empty cells are
left out. Write a file under a temporary name (starting with ``.`` or ending ``.part``) and
rename it when complete: those names are ignored.

Each row becomes one event whose ``ce_id`` is derived from the file's content hash and the row
number, so the same file dropped twice, or re-read after a crash, gives the same ids. Progress
(next row per file content) is stored after the broker acknowledged each batch, so a restart
resumes mid-file without losing or repeating rows. A row that breaks the contract is not sent:
it is written, with its field errors, to ``<file>.errors.jsonl`` beside the input (row number,
field, rule, message; never the row's values), and counted as refused; a short or long CSV row
says how many cells it found. A file that cannot be read as a whole (bytes not in the configured
``encoding``, default UTF-8, or ``gbk``/``gb18030`` for Chinese Windows spreadsheets; a CSV
cell over the csv module's field limit) is refused whole: its report names the line, column and
rule, nothing of it is published, and the connector goes on with the next file. A JSON line
nested too deep is refused alone. When every row is done the file (and its report) move to
``<inbox>/processed/``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from connectors.sdk.config import ConnectorConfig
from connectors.sdk.source import Outcome, Source, SourceRecord
from exchange.inputs import Encoding, InputError, decode_text, load_json
from exchange.models.exceptions import FieldError, ValidationFailed, validate_event
from exchange.models.registry import EVENTS

FILE_NAMESPACE = uuid.UUID("1d7c8a52-2b1e-4f0e-a2a4-6f4c1c9e5b3d")
JSON_SUFFIXES = (".jsonl", ".ndjson")


class FileDropConfig(ConnectorConfig):
    kind: Literal["file-drop"] = "file-drop"
    inbox: Path = Field(description="Folder where batches are dropped.")
    event_type: str = Field(description="Event type of every row (CLI short name).")
    pattern: str = Field("*", description="Glob of the files to read in the inbox.")
    batch_rows: int = Field(500, ge=1, description="Rows published per progress commit.")
    poll_interval_s: float = Field(1.0, gt=0)
    encoding: Encoding = Field(
        "utf-8", description="Text encoding of the files: utf-8 (default), gbk or gb18030."
    )
    max_file_bytes: int = Field(
        128 * 1024 * 1024, gt=0,
        description="A larger file is refused whole, unread, in its error report "
        "(file_too_large): a file is read into memory, so an unbounded one would stop the "
        "connector.",
    )


def nest(row: dict[str, str]) -> dict[str, Any]:
    """``{"a.b": "1", "c.0.d": "x"}`` → ``{"a": {"b": "1"}, "c": [{"d": "x"}]}``; empty cells
    are left out."""
    root: dict[str, Any] = {}
    for column, value in row.items():
        if value is None or value == "" or not column:
            continue
        parts = column.split(".")
        node: Any = root
        for part, following in itertools.pairwise(parts):
            child_is_list = following.isdigit()
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append([] if child_is_list else {})
                node = node[index]
            else:
                node = node.setdefault(part, [] if child_is_list else {})
        last = parts[-1]
        if isinstance(node, list):
            index = int(last)
            while len(node) <= index:
                node.append(None)
            node[index] = value
        else:
            node[last] = value
    return root


def parse_rows(
    path: Path, content: bytes, encoding: Encoding = "utf-8"
) -> list[dict[str, Any] | FieldError]:
    """The rows of a file as JSON-shaped mappings, or the error that makes a row unreadable.

    Raises :class:`~exchange.inputs.InputError` when the file as a whole cannot be read (bytes
    not in ``encoding``, CSV whose structure breaks): then nothing of it is published.
    """
    text = decode_text(content, encoding)
    if path.suffix in JSON_SUFFIXES:
        return [_json_row(line) for line in text.splitlines() if line.strip()]
    return _csv_rows(text)


def _json_row(line: str) -> dict[str, Any] | FieldError:
    try:
        value = load_json(line)
    except InputError as error:
        return error.errors[0]
    return value if isinstance(value, dict) else FieldError("", "json_object", "a row is an object")


def _csv_rows(text: str) -> list[dict[str, Any] | FieldError]:
    reader = csv.reader(io.StringIO(text))
    rows: list[dict[str, Any] | FieldError] = []
    try:
        header = next(reader, [])
        width = len(header)
        for cells in reader:
            if not cells:
                continue  # a blank line
            if len(cells) != width:
                rows.append(FieldError(
                    "", "csv_columns",
                    f"found {len(cells)} cells, expected {width} (one per header column)",
                ))
            else:
                rows.append(nest(dict(zip(header, cells, strict=True))))
    except csv.Error as error:
        raise InputError(
            "csv_syntax",
            f"line {reader.line_num}: {error}; nothing of this file was published, fix and "
            "drop it again",
            line=reader.line_num,
        ) from None
    return rows


Row = dict[str, Any] | FieldError | InputError
"""A parsed row, a row's own error, or (alone) the error that makes the whole file unreadable."""


def _located(path: Path, content: bytes, error: InputError, encoding: Encoding) -> InputError:
    """``error`` with the data row it is in, and for CSV the header of its column."""
    line = error.line
    csv_file = path.suffix not in JSON_SUFFIXES
    row = None if line is None else max(line - 1, 0) if csv_file else line
    field = error.errors[0].field
    if csv_file and line is not None and line > 1 and error.column is not None:
        lines = content.split(b"\n")
        header = next(csv.reader([lines[0].decode(encoding, errors="ignore")]), [])
        before = lines[line - 1].decode(encoding, errors="ignore")[: error.column - 1]
        index = len(next(csv.reader([before + "x"]), [])) - 1
        field = header[index] if 0 <= index < len(header) else field
    located = InputError(
        error.errors[0].rule, error.errors[0].message, field=field, line=line,
        column=error.column,
    )
    located.row = row
    return located


class FileDropSource(Source[FileDropConfig]):
    config_model = FileDropConfig
    dead_letter_invalid = False  # refused to the sender in the error report instead

    async def setup(self) -> None:
        self.poll_interval_s = self.config.poll_interval_s
        self.spec = EVENTS[self.config.event_type]
        self.config.inbox.mkdir(parents=True, exist_ok=True)
        self._cache: dict[str, tuple[tuple[int, int], str, list[Row]]] = {}
        await super().setup()

    def _files(self) -> list[Path]:
        return sorted(
            path
            for path in self.config.inbox.glob(self.config.pattern)
            if path.is_file()
            and not path.name.startswith(".")
            and not path.name.endswith((".part", ".errors.jsonl"))
        )

    async def poll(self) -> Sequence[SourceRecord]:
        for path in self._files():
            digest, rows = self._parsed(path)
            key = f"file:{path.name}:{digest}"
            start = int(self.progress.get(key) or 0)
            if start >= len(rows):
                self._finish(path)
                continue
            return [
                self._record(path, digest, number, row)
                for number, row in enumerate(rows[start : start + self.config.batch_rows], start)
            ]
        return []

    def _parsed(self, path: Path) -> tuple[str, list[Row]]:
        """The file's content hash and rows, parsed once per file (not once per batch)."""
        stat = path.stat()
        cached = self._cache.get(path.name)
        if cached is not None and cached[0] == (stat.st_size, stat.st_mtime_ns):
            return cached[1], cached[2]
        limit = self.config.max_file_bytes
        if stat.st_size > limit:  # refused unread: identified by name, size and time
            digest = hashlib.sha256(
                f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode("utf-8", "surrogateescape")
            ).hexdigest()
            refused: list[Row] = [InputError(
                "file_too_large",
                f"the file has {stat.st_size} bytes, more than the {limit} this connector "
                "reads (max_file_bytes); split it into smaller files",
            )]
            self._cache = {path.name: ((stat.st_size, stat.st_mtime_ns), digest, refused)}
            return digest, refused
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        rows: list[Row]
        try:
            rows = list(parse_rows(path, content, self.config.encoding))
        except InputError as error:
            rows = [_located(path, content, error, self.config.encoding)]
        except Exception as error:  # noqa: BLE001 - one unreadable file must not stop the connector
            rows = [InputError("unreadable", f"{type(error).__name__}: {error}")]
        self._cache = {path.name: ((stat.st_size, stat.st_mtime_ns), digest, rows)}
        return digest, rows

    def _record(
        self, path: Path, digest: str, number: int, row: Row
    ) -> SourceRecord:
        position = f"{path.name}:{digest}:{number}"
        event_id = str(uuid.uuid5(FILE_NAMESPACE, f"{self.config.ce_source}:{digest}:{number}"))
        raw = json.dumps(row, ensure_ascii=False).encode() if isinstance(row, dict) else b""
        if isinstance(row, InputError):
            return SourceRecord(position, event_id, raw, error=row)
        if isinstance(row, FieldError):
            return SourceRecord(position, event_id, raw, error=ValidationFailed([row]))
        try:
            # CSV cells are text: numbers and booleans in them can only be text (lax)
            event = validate_event(self.spec.model, row, strict=path.suffix in JSON_SUFFIXES)
        except ValidationFailed as error:
            return SourceRecord(position, event_id, raw, error=error)
        return SourceRecord(position, event_id, raw, event=event)

    async def commit(self, outcomes: Sequence[Outcome]) -> None:
        if not outcomes:
            return
        name, digest, _ = outcomes[0].record.position.rsplit(":", 2)
        lines = []
        for outcome in outcomes:
            if outcome.result is not None:
                continue
            row = int(outcome.record.position.rsplit(":", 1)[1]) + 1
            error = outcome.error
            errors = error.errors if isinstance(error, ValidationFailed) else []
            where: dict[str, Any] = {"row": row}
            if isinstance(error, InputError):  # the whole file: nothing of it was published
                where = {"row": error.row, "line": error.line, "column": error.column}
            lines.append(
                {
                    **where,  # row: 1-based, data rows only (a CSV header is not counted)
                    "reason": outcome.reason,
                    "errors": [
                        {"field": e.field, "rule": e.rule, "message": e.message} for e in errors
                    ]
                    or [{"field": "", "rule": outcome.reason or "", "message": str(error)}],
                }
            )
        if lines:
            report = self.config.inbox / f"{name}.errors.jsonl"
            with report.open("a", encoding="utf-8") as handle:
                for line in lines:
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        last = int(outcomes[-1].record.position.rsplit(":", 1)[1])
        self.progress.set(f"file:{name}:{digest}", str(last + 1))

    def _finish(self, path: Path) -> None:
        done = self.config.inbox / "processed"
        done.mkdir(exist_ok=True)
        report = path.with_name(f"{path.name}.errors.jsonl")
        if report.exists():
            report.rename(done / report.name)
        path.rename(done / path.name)
