"""The ``exchange`` command as a user runs it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from exchange.cli.main import main
from exchange.examples import example_json

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", *args], capture_output=True, text=True,
        env={**os.environ, **(env or {})}, input=stdin, cwd=REPO, timeout=120, check=False,
    )


def test_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for command in ("broker", "topology", "schemas", "publish", "tail", "example", "demo"):
        assert command in out


def test_example_prints_valid_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["example", "rescue"]) == 0
    assert json.loads(capsys.readouterr().out) == example_json("rescue")


@pytest.mark.parametrize(
    ("mutate", "field", "rule"),
    [
        (lambda d: d["victims"][0]["person"]["documents"][0].update(
            number=d["victims"][0]["person"]["documents"][0]["number"][:-1]
            + ("1" if d["victims"][0]["person"]["documents"][0]["number"][-1] != "1" else "2")),
         "victims.0.person.documents.0", "gb11643"),
        (lambda d: d["victims"][0].update(situation="NOT_A_SITUATION"),
         "victims.0.situation", "enum"),
        (lambda d: d.pop("rescuedAt"), "rescuedAt", "missing"),
        (lambda d: d.update(rescuedAt=12.5), "rescuedAt", "rfc3339_time"),
    ],
    ids=["bad-id-check-digit", "unknown-enum", "missing-field", "wrong-type"],
)
def test_publish_refuses_invalid_event_and_sends_nothing(
    tmp_path: Path, mutate: object, field: str, rule: str
) -> None:
    data = example_json("rescue")
    mutate(data)  # type: ignore[operator]
    done = run_cli(
        "publish", "rescue", "-", "--as", "police", stdin=json.dumps(data),
        # An unreachable broker: if anything were sent, the command would hang or fail there.
        env={"EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:9",
             "EXCHANGE_STATE_DIR": str(tmp_path)},
    )
    assert done.returncode == 1, done.stderr
    assert "refused, nothing sent" in done.stderr
    assert field in done.stderr
    assert rule in done.stderr


def test_unknown_event_type_lists_the_known_ones() -> None:
    done = run_cli("publish", "kidnapping", "-", "--as", "police", stdin="{}")
    assert done.returncode == 2
    assert "missing-person-report" in done.stderr


@pytest.mark.broker
def test_publish_then_tail_through_the_real_broker(provisioned, tmp_path: Path) -> None:
    creds = provisioned.credentials
    env = {
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(creds.directory.parent),
    }
    file = tmp_path / "sighting.json"
    file.write_text(json.dumps(example_json("transport-sighting")))
    published = run_cli("publish", "transport-sighting", str(file), "--as", "transport", env=env)
    assert published.returncode == 0, published.stderr
    assert "to exchange.sighting[" in published.stdout
    event_id = published.stdout.split("id=")[1].split()[0]
    tail = run_cli("tail", "exchange.sighting", "--as", "police", "--timeout", "5", env=env)
    assert tail.returncode == 0, tail.stderr
    lines = [json.loads(line) for line in tail.stdout.splitlines()]
    mine = [line for line in lines if line.get("ce", {}).get("id") == event_id]
    assert len(mine) == 1
    assert mine[0]["ce"]["type"] == "exchange.events.TransportSighting"
    assert mine[0]["data"]["sightingId"] == example_json("transport-sighting")["sightingId"]


@pytest.mark.broker
def test_tail_exposes_prometheus_metrics(provisioned, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent),
    }
    file = tmp_path / "sighting.json"
    file.write_text(json.dumps(example_json("transport-sighting")))
    assert run_cli("publish", "transport-sighting", str(file), "--as", "transport",
                   env=env).returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tail = subprocess.Popen(
        [sys.executable, "-m", "exchange.cli.main", "tail", "exchange.sighting", "--as", "police",
         "--timeout", "20", "--metrics-port", str(port)],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        scraped = ""
        while time.monotonic() < deadline and "exchange_events_consumed_total{" not in scraped:
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    scraped = r.read().decode()
            except OSError:
                continue
    finally:
        tail.terminate()
        tail.communicate(timeout=30)
    assert 'type="exchange.events.TransportSighting"' in scraped
    assert 'agency="police"' in scraped
