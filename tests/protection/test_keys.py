from __future__ import annotations

import stat
from pathlib import Path

import pytest

from exchange.protection.exceptions import UnknownKeyError
from exchange.protection.keys import FileKeyStore, parse_key_id


def test_init_rotate_revoke_are_kept_in_files(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    created = store.init(["police", "health"])
    assert sorted(k.key_id for k in created) == [
        "health.enc.1",
        "health.sig.1",
        "police.enc.1",
        "police.sig.1",
    ]
    assert store.init(["police"]) == []
    new = store.rotate("police", "enc")
    assert new.key_id == "police.enc.2"
    reread = FileKeyStore(tmp_path)
    assert reread.active("police", "enc").key_id == "police.enc.2"
    assert reread.info("police.enc.1").status == "retired"
    reread.decryption_key("police.enc.1")  # the retired private key is still there
    reread.revoke("police.sig.1")
    assert FileKeyStore(tmp_path).info("police.sig.1").status == "revoked"
    mode = stat.S_IMODE((tmp_path / "private" / "police.sig.1").stat().st_mode)
    assert mode == 0o600


def test_missing_keys_are_named(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    with pytest.raises(UnknownKeyError, match="exchange keys init"):
        store.active("police", "sig")
    with pytest.raises(UnknownKeyError, match=r"<agency>\.<sig\|enc>\.<n>"):
        parse_key_id("nonsense")
    store.init(["police"])
    (tmp_path / "private" / "police.sig.1").unlink()
    with pytest.raises(UnknownKeyError, match="private part"):
        FileKeyStore(tmp_path).signing_key("police.sig.1")
