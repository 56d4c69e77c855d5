"""Key stores for the evidence tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.protection.keys import FileKeyStore


@pytest.fixture
def keys(tmp_path: Path) -> FileKeyStore:
    store = FileKeyStore(tmp_path / "keys")
    store.init(["police", "health"])
    return store
