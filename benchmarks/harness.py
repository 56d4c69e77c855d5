"""What the benchmark scripts share: the repository's paths, a broker of their own, principals'
settings, picklable connections for spawned processes, timing, percentiles and the header line.

Every benchmark runs from the repository's root as a module (``python -m benchmarks.<name>``),
so that its spawned processes import the same code by the same names.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exchange.broker.local import LocalCluster
from exchange.credentials import CredentialStore
from exchange.settings import KafkaSettings
from exchange.topology.apply import apply_topology
from exchange.topology.loader import load_topology
from exchange.topology.model import Topology

REPO = Path(__file__).resolve().parent.parent
STATE = REPO / ".state"

Connection = dict[str, str]
"""Picklable connection details (bootstrap, SCRAM user and password) for a spawned process."""


def machine_line() -> str:
    """The header line every benchmark prints first: where its figures were taken."""
    return (f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
            f"python {platform.python_version()}")


# -- the broker ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchBroker:
    """A local broker with the repository's topology applied, and each agency's settings."""

    cluster: LocalCluster
    topology: Topology
    credentials: CredentialStore

    @classmethod
    def up(cls, state_dir: Path, base_port: int, *, fresh: bool = False) -> BenchBroker:
        """Start the broker in ``state_dir`` on ``base_port`` (wiped first if ``fresh``; else
        reused if already running there) and apply the topology (replication 1)."""
        cluster = LocalCluster(state_dir, base_port=base_port)
        if fresh:
            cluster.reset()
        cluster.up()
        topology = load_topology()
        credentials = CredentialStore(state_dir / "credentials")
        apply_topology(topology, cluster.admin_settings(), credentials, 1)
        return cls(cluster, topology, credentials)

    @property
    def admin(self) -> KafkaSettings:
        return self.cluster.admin_settings()

    def kafka_as(self, agency: str) -> KafkaSettings:
        """Settings of ``agency``'s principal (SCRAM, its ACLs)."""
        principal = self.topology.principal_of(agency)
        return self.cluster.client_settings().with_principal(
            principal, self.credentials.password_for(principal)
        )


def connection_of(settings: KafkaSettings) -> Connection:
    """Picklable connection details for a spawned process."""
    if not settings.username or settings.password is None:
        raise RuntimeError("the benchmark connects with SCRAM credentials; none known")
    return {
        "bootstrap": settings.bootstrap_servers, "username": settings.username,
        "protocol": settings.security_protocol, "cafile": str(settings.ssl_cafile or ""),
        "password": settings.password.get_secret_value(),
    }


def settings_of(connection: Connection) -> KafkaSettings:
    """The settings a spawned process connects with (the inverse of :func:`connection_of`)."""
    return KafkaSettings(
        bootstrap_servers=connection["bootstrap"], security_protocol=connection["protocol"],
        ssl_cafile=connection["cafile"] or None,
    ).with_principal(connection["username"], connection["password"])


# -- timing and statistics ------------------------------------------------------------------------


def timed_rounds(round_: Callable[[], None], repeats: int) -> list[float]:
    """Seconds taken by each of ``repeats`` runs of ``round_``."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        round_()
        times.append(time.perf_counter() - started)
    return times


def best_of(round_: Callable[[], None], repeats: int = 3) -> float:
    """The fastest of ``repeats`` timed rounds, in seconds (the least disturbed by noise)."""
    return min(timed_rounds(round_, repeats))


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0.001 steps, inclusive method, interpolated); NaN if no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


def nearest_rank(values: list[float], q: float) -> float:
    """The value at rank ``q * len`` of the sorted values (no interpolation); NaN if none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def target_line(what: str, figure: str, ok: bool, target: str, baseline: str) -> str:
    """One target of the issues beside its figure and its baseline from the same run, marked
    ✓ (met in this run) or ✗: ``what: figure ✓ (target ...; baseline ...)``. One run meets a
    target only for that run: claim it on several."""
    return f"{'✓' if ok else '✗'} {what}: {figure}   (target {target}; baseline {baseline})"


def load_line() -> str:
    """The machine's load when a figure was taken (the VM is shared: ratios in one run matter,
    absolute figures do not)."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cpus)"
