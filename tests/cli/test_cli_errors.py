"""The ``exchange`` command answers bad input and a broken bus with one line that says what to
do: no traceback, no "Unclosed AIOKafkaProducer", every client closed."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from exchange.examples import example_json
from exchange.protection.keys import FileKeyStore
from exchange.tls.pki import LocalPki
from exchange.topology.loader import load_topology
from tests.cli.test_cli import run_cli


def one_line_error(done: object, *expected: str) -> str:
    stderr: str = done.stderr  # type: ignore[attr-defined]
    assert done.returncode == 2, stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    assert "Unclosed" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("exchange: error: ")
    for text in expected:
        assert text in lines[0]
    return lines[0]


def local_state(tmp_path: Path) -> str:
    """A state folder with a local CA of its own and every agency's keys (what `exchange broker
    up` makes), so that the CLI's TLS and protection settings are complete and the broker being
    down is the only problem."""
    state = tmp_path / "state"
    LocalPki(state / "pki").ca()
    FileKeyStore(state / "keys").init([a.id for a in load_topology().agencies])
    return str(state)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, ["No such file", "file_unreadable"]),
        ('{"a": "西安"}'.encode("gbk"), ["line 1, column 8", "not utf-8", "[encoding]"]),
        (b"[" * 100_000 + b"]" * 100_000, ["[json_depth]"]),
        (b"{not json", ["line 1, column 2", "[json_syntax]"]),
        (b" " * 1_000_001, ["more than 1000000 bytes", "[input_too_large]"]),
    ],
    ids=["missing-file", "not-utf8", "nested-deep", "not-json", "too-large"],
)
def test_unreadable_input_is_one_line(
    tmp_path: Path, content: bytes | None, expected: list[str]
) -> None:
    file = tmp_path / "event.json"
    if content is not None:
        file.write_bytes(content)
    done = run_cli("publish", "transport-sighting", str(file), "--as", "transport")
    one_line_error(done, *expected)


def test_broker_down_is_one_line_and_the_producer_is_closed(tmp_path: Path) -> None:
    file = tmp_path / "event.json"
    file.write_text(json.dumps(example_json("transport-sighting")))
    env = {
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}",
        "EXCHANGE_KAFKA__USERNAME": "transport-system",
        "EXCHANGE_KAFKA__PASSWORD": "irrelevant",
        "EXCHANGE_STATE_DIR": local_state(tmp_path),
        "PYTHONWARNINGS": "always::ResourceWarning",
    }
    done = run_cli("publish", "transport-sighting", str(file), "--as", "transport", env=env)
    one_line_error(done, "cannot reach the Kafka broker", "exchange broker up")
    tail = run_cli("tail", "exchange.sighting", "--as", "police", "--timeout", "1", env=env)
    one_line_error(tail, "cannot reach the Kafka broker")


@pytest.mark.broker
def test_a_topic_the_agency_may_not_read_is_one_line(provisioned) -> None:
    creds = provisioned.credentials
    env = {
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(creds.directory.parent),
    }
    done = run_cli(
        "tail", "exchange.referral.to.health", "--as", "transport", "--timeout", "3", env=env
    )
    one_line_error(done, "not authorized", "exchange.referral.to.health")


def test_connectors_with_the_broker_down_are_one_line_and_closed(tmp_path: Path) -> None:
    secret = tmp_path / "hook.secret"
    assert run_cli("connect", "new-secret", str(secret)).returncode == 0
    common = f'state_dir = "{tmp_path / "state"}"\n'
    configs = {
        "source": 'kind = "file-drop"\nname = "fd"\nagency = "transport"\n'
        f'inbox = "{tmp_path / "in"}"\nevent_type = "transport-sighting"\n',
        "sink": 'kind = "webhook"\nname = "wh"\nagency = "civil-affairs"\n'
        'topics = ["exchange.referral.to.civil-affairs"]\nurl = "http://127.0.0.1:9/x"\n'
        f'secret_file = "{secret}"\n',
    }
    env = {
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}",
        "EXCHANGE_KAFKA__USERNAME": "someone",
        "EXCHANGE_KAFKA__PASSWORD": "irrelevant",
        "EXCHANGE_STATE_DIR": local_state(tmp_path),
        "PYTHONWARNINGS": "always::ResourceWarning",
    }
    for name, text in configs.items():
        config = tmp_path / f"{name}.toml"
        config.write_text(text + common)
        done = run_cli("connect", "run", str(config), env=env)
        one_line_error(done, "cannot reach the Kafka broker")


def test_an_endless_input_is_refused_after_the_limit() -> None:
    """``/dev/zero`` never ends: the CLI stops reading at the document limit (no memory
    exhaustion, no hang) and says so in one line."""
    done = run_cli("publish", "transport-sighting", "/dev/zero", "--as", "transport")
    one_line_error(done, "/dev/zero: more than", "[input_too_large]")
