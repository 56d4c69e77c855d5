"""``exchange connect`` as an operator runs it: check a config, run a connector, stop it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exchange.examples import example_json

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=REPO,
        timeout=120,
        check=False,
    )


def test_check_names_the_adapter_or_the_broken_fields(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(
        'kind = "file-drop"\nname = "ca"\nagency = "civil-affairs"\ninbox = "x"\n'
        'event_type = "referral"\n'
    )
    done = cli("connect", "check", str(good))
    assert done.returncode == 0, done.stderr
    adapter = "connectors.adapters.file_drop.FileDropSource"
    assert f"ca: file-drop ({adapter}) as civil-affairs" in done.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('kind = "file-drop"\nname = "ca"\nagency = "civil-affairs"\n')
    done = cli("connect", "check", str(bad))
    assert done.returncode == 2
    assert "inbox" in done.stderr
    assert "missing" in done.stderr


@pytest.mark.broker
async def test_run_moves_a_dropped_file_and_stops_on_sigterm(
    harness, provisioned, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    name = harness.unique_name("cli")
    config = tmp_path / "drop.toml"
    config.write_text(
        f'kind = "file-drop"\nname = "{name}"\nagency = "transport"\ninbox = "{inbox}"\n'
        f'event_type = "transport-sighting"\nstate_dir = "{tmp_path / "state"}"\n'
        "poll_interval_s = 0.1\n"
    )
    transport = provisioned.kafka_as("transport")
    assert transport.password is not None
    env = {**os.environ, **transport.environment(),  # the principal and the CA to trust
           "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent)}  # its keys
    log = tmp_path / "connector.log"
    with log.open("w") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "exchange.cli.main",
            "connect",
            "run",
            str(config),
            cwd=REPO,
            env=env,
            stderr=stderr,
        )
        try:
            inbox.mkdir()
            (inbox / "one.jsonl").write_text(json.dumps(example_json("transport-sighting")) + "\n")
            deadline = time.monotonic() + 60
            while not (inbox / "processed" / "one.jsonl").exists():
                assert time.monotonic() < deadline, "the connector did not process the file"
                assert process.returncode is None, log.read_text()
                await asyncio.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0, log.read_text()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    got = await harness.read(
        "exchange.sighting",
        agency="police",
        count=1,
        source=f"/agencies/transport/connect/{name}",
    )
    assert len(got) == 1
