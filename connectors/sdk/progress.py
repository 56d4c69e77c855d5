"""Where a connector keeps its progress, so that a restart neither loses nor repeats work.

A small SQLite file per connector (``<state_dir>/<name>.progress.sqlite``) holding named
positions (a file's next row, the last outbox id) and remembered keys (idempotency keys with
the answer given). Every write is its own committed transaction in WAL mode with
``synchronous=NORMAL``: a crash of the process loses nothing; a power loss may lose the last
few positions, never corrupt the file. Losing a position is safe by design: the records after
the previous one are published again with the *same* ``ce_id`` (every adapter derives it from
the input), which consumers dedupe. Sources store progress only after the broker acknowledged
the records; sinks keep theirs as the consumer group's offsets.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


class ProgressStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS position (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS remembered (scope TEXT NOT NULL, key TEXT NOT NULL, "
            "value TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (scope, key))"
        )

    def get(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM position WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set(self, name: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO position (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def recall(self, scope: str, key: str) -> str | None:
        """The value remembered for ``key`` in ``scope`` (e.g. an idempotency key's event id)."""
        row = self._db.execute(
            "SELECT value FROM remembered WHERE scope = ? AND key = ?", (scope, key)
        ).fetchone()
        return None if row is None else str(row[0])

    def remember(self, scope: str, key: str, value: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO remembered (scope, key, value, at) VALUES (?, ?, ?, ?)",
            (scope, key, value, time.time()),
        )

    def forget_older_than(self, scope: str, seconds: float) -> int:
        """Drop remembered keys older than ``seconds``; returns how many."""
        cursor = self._db.execute(
            "DELETE FROM remembered WHERE scope = ? AND at < ?", (scope, time.time() - seconds)
        )
        return cursor.rowcount

    def close(self) -> None:
        self._db.close()
