"""The node processes of the local cluster: pid files, liveness, ports, log tails.

Nodes started by this process are kept by pid (:func:`adopt`) so that they can be reaped when
stopped (no zombies) and so that Python does not warn about a child it forgot; nodes run on
after we exit, and later commands find them by their pid files.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from exchange.broker.config import JMX_EXPORTER_CONFIG, NodeLayout

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def adopt(process: subprocess.Popen[bytes]) -> None:
    _CHILDREN[process.pid] = process


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def is_alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        del _CHILDREN[pid]  # reaped
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not alive.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def metrics_agent(lib_dir: Path, node: NodeLayout) -> list[str]:
    """The JMX exporter java agent's argument (the jar from the POM), serving the rules of
    ``jmx-exporter.yml`` on the node's metrics port; nothing if the jar is not there."""
    jars = sorted(lib_dir.glob("jmx_prometheus_javaagent-*.jar"))
    if not jars:
        return []
    return [f"-javaagent:{jars[-1]}={node.host}:{node.metrics_port}:{JMX_EXPORTER_CONFIG}"]
