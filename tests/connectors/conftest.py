"""The connector test harness on the session's provisioned broker (see connectors/sdk/testing.py),
and a real PostgreSQL for the outbox tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.sdk.testing import ConnectorHarness
from exchange.codec import EventCodec
from exchange.tls.pki import LocalPki


@pytest.fixture
def harness(provisioned, codec: EventCodec, tmp_path: Path) -> ConnectorHarness:
    return ConnectorHarness(
        provisioned.kafka_as, provisioned.topology, codec, tmp_path / "state",
        provisioned.protection_for, pki=LocalPki(tmp_path / "pki"),
    )


@dataclass
class PostgresServer:
    """A real PostgreSQL (Debian's package) in a temporary folder, on a free loopback port."""

    bindir: Path
    folder: Path
    port: int

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=3"

    def _as_owner(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        data, log = str(self.folder / "data"), str(self.folder / "server.log")
        self._as_owner(
            str(self.bindir / "pg_ctl"), "-D", data, "-l", log, "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        data = str(self.folder / "data")
        self._as_owner(str(self.bindir / "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        pytest.fail("PostgreSQL is not installed: apt-get install postgresql (Debian's package)")
    folder = Path(tempfile.mkdtemp(prefix="exchange-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PostgresServer(found[-1].parent, folder, _free_port())
    server._as_owner(
        str(server.bindir / "initdb"),
        "-D",
        str(folder / "data"),
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-sync",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
