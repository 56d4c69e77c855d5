"""Fixtures of the workflow tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from support.worker import start_worker, stop_worker


@pytest.fixture
def worker(provisioned) -> Iterator[subprocess.Popen[bytes]]:
    process = start_worker(provisioned)
    try:
        yield process
    finally:
        if process.poll() is None:
            stop_worker(process)
