"""Targets announced by the processes for Prometheus' file discovery."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from exchange.operations.targets import PID_LABEL, announce, announced, forget

ANNOUNCE = (
    "import sys; from pathlib import Path; from exchange.operations.targets import announce; "
    "announce(Path(sys.argv[1]), 'exchange-worker', 9101); "
    "import os; os._exit(9) if sys.argv[2] == 'crash' else None"
)


def test_a_process_that_exits_normally_withdraws_its_target(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-c", ANNOUNCE, str(tmp_path), "exit"], check=True)
    assert announced(tmp_path)["exchange-worker"] == []


def test_a_crashed_process_leaves_its_target_for_the_alert(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", ANNOUNCE, str(tmp_path), "crash"], check=False)
    assert done.returncode == 9
    [path] = announced(tmp_path)["exchange-worker"]
    [entry] = json.loads(path.read_text())
    assert entry["targets"] == ["127.0.0.1:9101"]
    assert set(entry["labels"]) == {PID_LABEL}  # dropped by Prometheus: no new series per restart
    assert forget(tmp_path, "exchange-worker", "127.0.0.1:9101")
    assert not forget(tmp_path, "exchange-worker", "127.0.0.1:9101")
    assert announced(tmp_path)["exchange-worker"] == []


def test_an_unknown_job_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="job: 'workers' is not one of"):
        announce(tmp_path, "workers", 9101)
