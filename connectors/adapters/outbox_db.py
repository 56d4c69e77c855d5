"""The two outbox databases behind one small interface: SQLite (standard library) and
PostgreSQL (psycopg, the ``postgres`` extra). Connection failures surface as ``OSError``
(``ConnectionError``), whatever the driver, so the relay can back off and reconnect."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from connectors.sdk.exceptions import MissingExtraError


@dataclass(frozen=True)
class OutboxRow:
    id: int
    event_type: str
    payload: str | bytes
    """Text; bytes from SQLite (dynamically typed): decoded strictly by the relay, so a row
    that is not UTF-8 is refused alone instead of failing every fetch."""
    created_at: datetime | None


class OutboxDatabase(Protocol):
    async def fetch(self, limit: int) -> list[OutboxRow]: ...
    async def mark_published(self, ids: list[int]) -> None: ...
    async def close(self) -> None: ...


SQLITE_DDL = """CREATE TABLE IF NOT EXISTS {table} (
    id INTEGER PRIMARY KEY AUTOINCREMENT, event_type TEXT NOT NULL, payload TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    published_at TEXT)"""
POSTGRES_DDL = """CREATE TABLE IF NOT EXISTS {table} (
    id BIGSERIAL PRIMARY KEY, event_type TEXT NOT NULL, payload TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(), published_at TIMESTAMPTZ)"""


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


class SqliteOutbox:
    def __init__(self, path: str, table: str, create: bool) -> None:
        self.table = table
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout = 5000")
        if create:
            self._db.execute(SQLITE_DDL.format(table=table))

    def _fetch(self, limit: int) -> list[OutboxRow]:
        try:
            rows = self._db.execute(
                "SELECT id, CAST(event_type AS BLOB), CAST(payload AS BLOB), created_at "  # noqa: S608 - table name validated by the config
                f"FROM {self.table} WHERE published_at IS NULL ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
        except sqlite3.OperationalError as error:
            raise ConnectionError(f"sqlite: {error}") from error
        return [
            OutboxRow(int(r[0]), bytes(r[1]).decode(errors="backslashreplace"), bytes(r[2]),
                      _when(r[3]))
            for r in rows
        ]

    def _mark(self, ids: list[int]) -> None:
        marks = ",".join("?" * len(ids))
        now = datetime.now(UTC).isoformat()
        try:
            self._db.execute(
                f"UPDATE {self.table} SET published_at = ? WHERE id IN ({marks})",  # noqa: S608
                (now, *ids),
            )
        except sqlite3.OperationalError as error:
            raise ConnectionError(f"sqlite: {error}") from error

    async def fetch(self, limit: int) -> list[OutboxRow]:
        return await asyncio.to_thread(self._fetch, limit)

    async def mark_published(self, ids: list[int]) -> None:
        if ids:
            await asyncio.to_thread(self._mark, ids)

    async def close(self) -> None:
        self._db.close()


class PostgresOutbox:
    def __init__(self, connection: Any, table: str) -> None:
        self._connection = connection
        self.table = table

    @classmethod
    async def connect(cls, dsn: str, table: str, create: bool) -> PostgresOutbox:
        try:
            import psycopg  # noqa: PLC0415 - optional dependency
        except ImportError as error:
            raise MissingExtraError("PostgreSQL outbox", "postgres", "psycopg") from error
        try:
            connection = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        except psycopg.OperationalError as error:
            raise ConnectionError(f"postgresql: {error}") from error
        if create:
            await connection.execute(POSTGRES_DDL.format(table=table))
        return cls(connection, table)

    async def _run(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        import psycopg  # noqa: PLC0415 - present: connect() checked it

        try:
            cursor = await self._connection.execute(sql, params)
            return list(await cursor.fetchall()) if cursor.description else []
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:
            raise ConnectionError(f"postgresql: {error}") from error

    async def fetch(self, limit: int) -> list[OutboxRow]:
        rows = await self._run(
            f"SELECT id, event_type, payload, created_at FROM {self.table} "  # noqa: S608
            "WHERE published_at IS NULL ORDER BY id LIMIT %s",
            (limit,),
        )
        return [OutboxRow(int(r[0]), str(r[1]), str(r[2]), _when(r[3])) for r in rows]

    async def mark_published(self, ids: list[int]) -> None:
        if ids:
            await self._run(
                f"UPDATE {self.table} SET published_at = now() WHERE id = ANY(%s)",  # noqa: S608
                (ids,),
            )

    async def close(self) -> None:
        await self._connection.close()


async def open_outbox(
    database: Literal["sqlite", "postgresql"],
    table: str,
    *,
    path: Path | None = None,
    dsn: str | None = None,
    create: bool = False,
) -> OutboxDatabase:
    """The outbox ``table`` in the SQLite file ``path`` or the PostgreSQL database ``dsn``."""
    if database == "sqlite":
        if path is None:
            raise ValueError("path: SQLite needs the database file")
        return SqliteOutbox(str(path), table, create)
    if not dsn:
        raise ValueError("dsn: PostgreSQL needs a connection string")
    return await PostgresOutbox.connect(dsn, table, create)
