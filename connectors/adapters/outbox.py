"""Transactional-outbox source: events an agency's database wrote in its own transactions.

The agency system inserts each event into an outbox table *in the same transaction* as the
business change it describes, so an event exists if and only if the change was committed. This
relay polls the rows not yet published, in id order, publishes each as the agency, then marks
them published (``published_at``) in the agency's database. Polling "not yet published" rather
than "id greater than the last seen" cannot skip a row whose transaction committed late with a
lower id. A crash between publishing and marking publishes those rows again with the *same*
``ce_id`` (``outbox-<id>``), which consumers dedupe. A payload that breaks the contract is
dead-lettered (value: the payload as stored) and marked too, so it never blocks the rows after
it. When the database is down, the relay waits with backoff and goes on when it is back.

The table (created with ``create_table = true``, or by the agency's own migration)::

    CREATE TABLE exchange_outbox (
        id           BIGSERIAL PRIMARY KEY,          -- INTEGER PRIMARY KEY AUTOINCREMENT in SQLite
        event_type   TEXT NOT NULL,                  -- e.g. rescue (exchange example rescue)
        payload      TEXT NOT NULL,                  -- the event as JSON
        created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
        published_at TIMESTAMPTZ                     -- set by the relay
    );

PostgreSQL needs the ``postgres`` extra (psycopg); SQLite needs nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from connectors.adapters.outbox_db import OutboxDatabase, OutboxRow, open_outbox
from connectors.sdk.config import ConnectorConfig
from connectors.sdk.source import Outcome, Source, SourceRecord
from exchange.inputs import load_json
from exchange.models.exceptions import FieldError, ValidationFailed, validate_event
from exchange.models.registry import UnknownEventError, spec_for

log = logging.getLogger(__name__)


def _json_object(payload: str | bytes) -> dict[str, object]:
    """The payload's JSON object (:class:`~exchange.inputs.InputError` if not UTF-8 text, not
    JSON, or nested too deep)."""
    data = load_json(payload)
    if not isinstance(data, dict):
        raise TypeError("payload must be a JSON object")
    return data


class OutboxConfig(ConnectorConfig):
    kind: Literal["outbox"] = "outbox"
    database: Literal["sqlite", "postgresql"]
    path: Path | None = Field(None, description="SQLite: the database file.")
    dsn: str | None = Field(
        None,
        description="PostgreSQL: libpq connection string; keep the password in a passfile "
        "(passfile=...) rather than here.",
    )
    table: str = Field("exchange_outbox", pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
    create_table: bool = False
    batch_rows: int = Field(500, ge=1)
    poll_interval_s: float = Field(0.5, gt=0)

    @model_validator(mode="after")
    def _where(self) -> OutboxConfig:
        if self.database == "sqlite" and self.path is None:
            raise ValueError("path: SQLite needs the database file")
        if self.database == "postgresql" and not self.dsn:
            raise ValueError("dsn: PostgreSQL needs a connection string")
        return self


class OutboxSource(Source[OutboxConfig]):
    config_model = OutboxConfig
    _db: OutboxDatabase | None = None
    _failures = 0

    async def setup(self) -> None:
        self.poll_interval_s = self.config.poll_interval_s
        await super().setup()

    async def _database(self) -> OutboxDatabase:
        if self._db is None:
            config = self.config
            self._db = await open_outbox(
                config.database,
                config.table,
                path=config.path,
                dsn=config.dsn,
                create=config.create_table,
            )
        return self._db

    async def poll(self) -> Sequence[SourceRecord]:
        try:
            rows = await (await self._database()).fetch(self.config.batch_rows)
        except OSError as error:  # the database is down: back off, reconnect, go on
            await self._lost(error)
            return []
        if self._failures:
            log.warning("outbox %s: database reachable again", self.name)
        self._failures = 0
        self.poll_interval_s = self.config.poll_interval_s
        return [self._record(row) for row in rows]

    async def _lost(self, error: BaseException) -> None:
        self._failures += 1
        self.metrics.errors.labels(self.name, type(error).__name__).inc()
        log.warning("outbox %s: database unavailable (%s)", self.name, type(error).__name__)
        if self._db is not None:
            await self._db.close()
            self._db = None
        delays = list(self.config.retry.model_copy(update={"jitter": 0}).delays()) or [1.0]
        self.poll_interval_s = delays[min(self._failures, len(delays)) - 1]

    def _record(self, row: OutboxRow) -> SourceRecord:
        position = f"outbox:{row.id}"
        event_id = f"outbox-{row.id}"
        raw = row.payload if isinstance(row.payload, bytes) else row.payload.encode()
        try:
            spec = spec_for(row.event_type)
            event = validate_event(spec.model, _json_object(row.payload))
        except ValidationFailed as error:
            return SourceRecord(position, event_id, raw, error=error)
        except (UnknownEventError, ValueError, TypeError) as error:
            rule = "event_type" if isinstance(error, UnknownEventError) else "json_object"
            failed = ValidationFailed([FieldError("", rule, str(error))])
            return SourceRecord(position, event_id, raw, error=failed)
        return SourceRecord(position, event_id, raw, event=event, time=row.created_at)

    async def commit(self, outcomes: Sequence[Outcome]) -> None:
        ids = [int(o.record.position.removeprefix("outbox:")) for o in outcomes]
        delays = self.config.retry.delays()
        while True:
            try:
                await (await self._database()).mark_published(ids)
            except OSError as error:
                delay = next(delays, None)
                if delay is None:
                    raise  # restart: the rows are published again with the same ce_id
                await self._lost(error)
                await asyncio.sleep(delay)
                continue
            return

    async def close(self) -> None:
        try:
            if self._db is not None:
                await self._db.close()
        finally:
            self._db = None
            await super().close()
