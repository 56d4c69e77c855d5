"""``exchange tsa``, ``exchange notary`` and ``exchange audit export|verify-bundle`` as the
joint-meeting office runs them: real processes, stopped by signal, on the real broker."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.evidence import attributes

from exchange.evidence.checkpoints import AnchoredTrail
from exchange.protection.audit_kafka import KafkaAuditSink, audit_producer, read_audit
from exchange.protection.keys import FileKeyStore

pytestmark = pytest.mark.broker
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "exchange.cli.main", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, cwd=REPO, timeout=120, check=False)


def start(*args: str, env: dict[str, str], sigint_ignored: bool = False) -> subprocess.Popen[str]:
    """``sigint_ignored``: as a process started in the background by a shell without job
    control (``cmd &`` in a script) is: SIGINT ignored from the start."""
    command = [sys.executable, "-m", "exchange.cli.main", *args]
    if sigint_ignored:  # the shell's trap sets SIG_IGN, which exec keeps
        command = ["sh", "-c", 'trap "" INT; exec "$0" "$@"', *command]
    return subprocess.Popen(command, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **env}, cwd=REPO)


async def anchored(provisioned: Any, signature: str) -> None:
    for _ in range(120):
        anchors = await read_audit(provisioned.kafka_as("operators"), 3, topic="exchange.notary")
        if any(c.get("signature") == signature
               for a in anchors for c in a.record.get("checkpoints", [])):
            return
        await asyncio.sleep(0.5)
    raise AssertionError("the notary did not anchor the checkpoint within 60 s")


async def test_the_notary_anchors_and_the_office_exports_a_bundle(
    provisioned, tmp_path: Path
) -> None:
    state = provisioned.credentials.directory.parent
    port = free_port()
    env = {"EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
           "EXCHANGE_STATE_DIR": str(state),
           "EXCHANGE_NOTARY__TSA_URL": f"http://127.0.0.1:{port}/tsa"}
    keys = FileKeyStore(state / "keys")
    keys.init(["police"])
    made = await asyncio.to_thread(cli, "tsa", "init", env=env)
    assert made.returncode == 0, made.stderr
    tsa = start("tsa", "serve", "--port", str(port), env=env, sigint_ignored=True)
    notary = start("notary", "--interval", "0.5", env=env)
    case = f"CASE-{uuid.uuid4().hex[:10]}"
    try:
        producer = audit_producer(provisioned.kafka_as("police"))
        await producer.start()
        try:
            trail = AnchoredTrail(KafkaAuditSink(producer), "police", keys)
            for n in range(3):
                await trail.record("published", attributes(case, n), topic="exchange.rescue",
                                   partition=0, offset=n)
            await trail.close()
        finally:
            await producer.stop()
        await anchored(provisioned, trail.checkpoints[-1]["signature"])
        bundle = tmp_path / "case.zip"
        exported = await asyncio.to_thread(cli, "audit", "export", case, "--out", str(bundle),
                                           env=env)
        assert exported.returncode == 0, exported.stdout + exported.stderr
        assert "3 audit record(s) in 1 chain(s)" in exported.stdout
        verified = await asyncio.to_thread(cli, "audit", "verify-bundle", str(bundle), env={})
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert f"the disclosure record of case {case} verifies" in verified.stdout
        unknown = await asyncio.to_thread(cli, "audit", "export", "CASE-none", "--out",
                                          str(tmp_path / "none.zip"), env=env)
        assert unknown.returncode == 2  # an error of the library: exit code 2
        assert "no audit record names case 'CASE-none'" in unknown.stderr
    finally:
        notary.send_signal(signal.SIGTERM)
        tsa.send_signal(signal.SIGINT)
        out, err = await asyncio.to_thread(notary.communicate, timeout=30)
        tsa_out, tsa_err = await asyncio.to_thread(tsa.communicate, timeout=30)
    assert notary.returncode == 0, err
    assert "notary stopped" in out
    assert tsa.returncode == 0, tsa_err
    assert "TSA stopped; " in tsa_out
