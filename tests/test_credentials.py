from __future__ import annotations

import stat
from pathlib import Path

import pytest

from exchange.credentials import CredentialStore
from exchange.errors import SettingsError


def test_generates_once_with_private_mode(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "creds")
    assert store.get("agency.police") is None
    first = store.password_for("agency.police")
    assert len(first) >= 32
    assert store.password_for("agency.police") == first == store.get("agency.police")
    mode = stat.S_IMODE((tmp_path / "creds" / "agency.police").stat().st_mode)
    assert mode == 0o600


def test_rejects_principal_that_is_not_a_file_name(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot name a credential file"):
        CredentialStore(tmp_path).password_for("../escape")


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "agency.x").write_text("")
    with pytest.raises(SettingsError, match="is empty"):
        CredentialStore(tmp_path).password_for("agency.x")
