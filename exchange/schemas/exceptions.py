"""Errors of the schema catalogue.

::

    ExchangeError                       (exchange.errors)
    └── SchemaError
        ├── SchemaParseError            a source or published ``.avsc`` cannot be read or resolved
        ├── SchemaIncompatibleError     a version cannot read an earlier one (backward transitive)
        └── UnknownSchemaError          no published version has that fingerprint / event type
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from exchange.errors import ExchangeError


class SchemaError(ExchangeError):
    """Root of the schema catalogue's errors."""


class SchemaParseError(SchemaError, ValueError):
    """A schema file is not valid JSON or not a valid Avro schema, or a reference is unresolved."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(
            f"{self.path}: {problem}; fix the .avsc file and run `exchange schemas check`"
        )


class SchemaIncompatibleError(SchemaError):
    """A newer version of an event cannot read data written with an earlier one.

    ``reader_version`` is the newer version (``None`` means the unpublished current source),
    ``writer_version`` the earlier one; ``details`` are the compatibility checker's findings.
    """

    def __init__(
        self,
        event_type: str,
        reader_version: int | None,
        writer_version: int,
        details: Sequence[str],
    ) -> None:
        self.event_type = event_type
        self.reader_version = reader_version
        self.writer_version = writer_version
        self.details = tuple(details)
        reader = "current source" if reader_version is None else f"v{reader_version}"
        super().__init__(
            f"{event_type}: {reader} cannot read data written with v{writer_version} "
            f"({'; '.join(self.details)}). Give new fields a default, keep enum symbols, or "
            "publish a new event type instead of changing this one"
        )


class UnknownSchemaError(SchemaError, LookupError):
    """No published schema version matches the fingerprint or the event type asked for."""

    def __init__(self, *, fingerprint: bytes | None = None, event_type: str | None = None) -> None:
        self.fingerprint = fingerprint
        self.event_type = event_type
        if fingerprint is not None:
            what = f"fingerprint {fingerprint.hex()}"
        else:
            what = f"event type {event_type!r}"
        super().__init__(
            f"no published schema version with {what}; the writer may use a newer catalogue "
            "(upgrade the package) or an unpublished schema (run `exchange schemas freeze`)"
        )
