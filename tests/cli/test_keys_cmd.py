"""``exchange keys`` as agencies and the joint-meeting office run it, each in its own folder."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from exchange.protection.keys import FileKeyStore

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", *args],
        capture_output=True, text=True, env={**os.environ, **env}, cwd=REPO, timeout=120,
        check=False,
    )  # fmt: skip


def ok(*args: str, env: dict[str, str]) -> str:
    done = run_cli(*args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_local_keys_init_rotate_revoke_list(tmp_path: Path) -> None:
    env = {"EXCHANGE_STATE_DIR": str(tmp_path)}
    assert "4 key(s) created" in ok("keys", "init", "police", "health", env=env)
    rotated = ok("keys", "rotate", "--agency", "police", "--kind", "enc", env=env)
    assert rotated.splitlines()[0].startswith("police.enc.2 made SHA256:")
    ok("keys", "revoke", "health.sig.1", "--local", env=env)
    listed = ok("keys", "list", "--local", "--agency", "police", "--agency", "health", env=env)
    assert "police.enc.1" in listed
    assert "retired" in listed
    assert "revoked" in listed
    store = FileKeyStore(tmp_path / "keys")
    assert store.active("police", "enc").key_id == "police.enc.2"
    unknown = run_cli("keys", "rotate", "--agency", "nobody", env=env)
    assert unknown.returncode == 2
    assert "nobody" in unknown.stderr
    no_reason = run_cli("keys", "revoke", "police.sig.1", env=env)
    assert no_reason.returncode == 2
    assert "needs --reason" in no_reason.stderr
    no_root = run_cli("keys", "revoke", "police.sig.1", "--reason", "x", env=env)
    assert no_root.returncode == 2
    assert "no root key" in no_root.stderr  # only the office revokes on the bus


def test_an_agency_host_keeps_only_its_own_private_keys(tmp_path: Path) -> None:
    env = {"EXCHANGE_STATE_DIR": str(tmp_path / "unused")}
    made = ok("keys", "init", "--agency", "police", "--state", str(tmp_path / "a"), env=env)
    assert "next: exchange keys request --agency police" in made
    private = tmp_path / "a" / "keys" / "private"
    assert sorted(p.name for p in private.iterdir()) == ["police.enc.1", "police.sig.1"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in private.iterdir())
    root = ok("keys", "root-init", "--state", str(tmp_path / "office"), env=env)
    assert 'fingerprint = "SHA256:' in root
    again = run_cli("keys", "root-init", "--state", str(tmp_path / "office"), env=env)
    assert again.returncode == 2
    assert "made once" in again.stderr


@pytest.mark.broker
def test_request_certify_rotate_revoke_on_the_bus(provisioned, tmp_path: Path) -> None:
    env = {
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent),  # passwords
    }
    host, office = ("--state", str(tmp_path / "health-host")), ("--state", str(tmp_path / "office"))
    pin = ok("keys", "root-init", *office, env=env).split('fingerprint = "')[1].split('"')[0]
    ok("keys", "init", "--agency", "health", *host, env=env)
    requested = ok("keys", "request", "--agency", "health", *host, env=env)
    assert "requested health.sig.1" in requested
    dry = ok("keys", "certify", "--agency", "health", "--dry-run", *office, env=env)
    assert "would certify health.sig.1" in dry
    assert "health.sig.1" not in ok("keys", "list", "--agency", "health", "--pinned", pin,
                                    env=env).split("REFUSED")[0]
    certified = ok("keys", "certify", "--agency", "health", *office, env=env)
    assert "2 key(s) certified" in certified
    ok("keys", "rotate", "--agency", "health", "--kind", "sig", "--request", *host, env=env)
    assert "certified health.sig.2" in ok("keys", "certify", "--agency", "health", *office,
                                          env=env)
    no_reason = run_cli("keys", "revoke", "health.sig.1", *office, env=env)
    assert no_reason.returncode == 2
    assert "needs --reason" in no_reason.stderr
    ok("keys", "revoke", "health.sig.1", "--reason", "test: key leaked", *office, env=env)
    listed = ok("keys", "list", "--agency", "health", "--pinned", pin, "--as", "health", env=env)
    lines = {line.split()[0]: line for line in listed.splitlines() if line.startswith("health.")
             and "REFUSED" not in line}
    assert lines["health.sig.1"].split()[1] == "revoked"
    assert "test: key leaked" in lines["health.sig.1"]
    assert lines["health.sig.2"].split()[1] == "active"
    assert lines["health.enc.1"].split()[1] == "active"
    unpinned = ok("keys", "list", "--agency", "health", env=env)  # the repository pins no root
    assert "0 certified key(s); root not pinned" in unpinned
