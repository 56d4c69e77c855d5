"""Scrape targets announced by the processes themselves (Prometheus file-based discovery).

Every long-running process that serves metrics (``exchange worker``, ``exchange connect run``,
``exchange report --at-deadlines``, ``exchange monitor``, ``exchange notary``) writes one small
JSON file into ``<state>/monitoring/targets/<job>/`` when it starts serving, and removes it when
it exits normally. Prometheus (``file_sd_configs``, see :mod:`exchange.operations.scrape`) picks the
files up within seconds. A process that dies without exiting normally leaves its file: the
target goes down and ``ExchangeWorkerDown`` (or its kin) fires, which is the point. A process
stopped for good on purpose is forgotten with ``exchange monitoring forget``.
"""

from __future__ import annotations

import atexit
import json
import os
from pathlib import Path

__all__ = ["JOBS", "announce", "announced", "forget", "targets_dir"]

PID_LABEL = "__pid"
"""Which process wrote the file (dropped by Prometheus like every ``__`` label, so a restart
does not start new series)."""
JOBS = ("exchange-worker", "exchange-connector", "exchange-report", "exchange-monitor",
        "exchange-notary")


def targets_dir(state_dir: Path) -> Path:
    return state_dir / "monitoring" / "targets"


def announce(
    state_dir: Path, job: str, port: int, host: str = "127.0.0.1",
    labels: dict[str, str] | None = None,
) -> Path:
    """Write the target file of this process; it is removed when the process exits normally."""
    if job not in JOBS:
        raise ValueError(f"job: {job!r} is not one of {', '.join(JOBS)}")
    folder = targets_dir(state_dir) / job
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{host}-{port}.json"
    entry = [{
        "targets": [f"{host}:{port}"],
        "labels": {PID_LABEL: str(os.getpid()), **(labels or {})},
    }]
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(entry, indent=1) + "\n")
    partial.replace(path)  # atomic: Prometheus never reads half a file
    atexit.register(_withdraw, path, os.getpid())
    return path


def _withdraw(path: Path, pid: int) -> None:
    if os.getpid() != pid:
        return  # a forked child exiting: the target is its parent's
    try:
        entry = json.loads(path.read_text())
        if entry[0]["labels"].get(PID_LABEL) == str(pid):
            path.unlink()
    except (OSError, ValueError, LookupError):
        pass  # already gone, or taken over by a newer process on the same port


def announced(state_dir: Path) -> dict[str, list[Path]]:
    root = targets_dir(state_dir)
    return {job: sorted((root / job).glob("*.json")) for job in JOBS}


def forget(state_dir: Path, job: str, target: str) -> bool:
    """Remove the file of ``target`` (host:port) of ``job``; False if there was none."""
    host, _, port = target.rpartition(":")
    path = targets_dir(state_dir) / job / f"{host or '127.0.0.1'}-{port}.json"
    if not path.is_file():
        return False
    path.unlink()
    return True
