"""The system under test: a three-broker cluster with the repository's topology applied at
replication 3 (``min.insync.replicas=2``), two workers, the HTTP gateway and the file-drop
connector, each an ``exchange`` process of its own that a fault may kill, stop or restart.

Each broker runs in a network namespace of its own (:mod:`support.nemesis.network`), on an
address of its own, so that a fault can cut one broker's network. Ports (all from
``base_port``): the brokers' client and controller ports ``base .. base+5``, their metrics
ports ``base+50 .. base+54``, the gateway ``base+20`` (on loopback).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from exchange.broker.local import LocalCluster
from exchange.broker.processes import tail
from exchange.protection.keys import FileKeyStore
from exchange.topology.apply import apply_topology
from exchange.topology.loader import load_topology
from exchange.topology.model import Topology
from support.nemesis.network import Network

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[3]
TOKEN = "nemesis-gateway-token"
GATEWAY = "nemesis-gw"
FILE_DROP = "nemesis-drop"


RESERVED = Path("/proc/sys/net/ipv4/ip_local_reserved_ports")
EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")


def reserve_ports(ports: range) -> None:
    """Keep the kernel from handing the brokers' ports to outgoing connections.

    When a killed broker's port lies in the ephemeral range, a client retrying to connect to
    it can be given that very port as its own and connect to itself (TCP simultaneous open):
    the port then looks open, and the restarted broker fails with "Address already in use"
    (seen in the nemesis run on 45396). The default test ports (29092..) lie below Linux's
    ephemeral range; ports given inside it are reserved here (as root), or a warning says
    why a restart may fail.
    """
    low, high = (int(x) for x in EPHEMERAL.read_text().split())
    if ports.stop <= low or ports.start > high:
        return
    wanted = f"{ports.start}-{ports.stop - 1}"
    try:
        current = RESERVED.read_text().strip()
        if wanted not in current.split(","):
            RESERVED.write_text(",".join(x for x in (current, wanted) if x))
    except OSError as error:
        log.warning("ports %s are in the ephemeral range and cannot be reserved (%s): a "
                    "restarted broker may find its port taken", wanted, error)


@dataclass
class Process:
    """One ``exchange`` process: started again with the same arguments after a fault."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "exchange.cli.main", *self.args], env=self.env, cwd=REPO,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.started_at = time.monotonic()

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def exited(self, lines: int = 40) -> str:
        """That it exited, with the end of its log: why, in the failure itself (CI keeps no
        files)."""
        return f"{self.name} exited; the end of {self.log}:\n{tail(self.log, lines)}"

    def kill(self) -> None:
        """SIGKILL: no flush, no commit, no goodbye to the group."""
        if self.popen is not None and self.alive:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(30)


@dataclass
class System:
    root: Path
    base_port: int
    topology: Topology = field(default_factory=load_topology)
    cluster: LocalCluster = field(init=False)
    network: Network = field(init=False)
    workers: list[Process] = field(default_factory=list)
    gateway: Process = field(init=False)
    file_drop: Process = field(init=False)

    def __post_init__(self) -> None:
        self.network = Network(self.base_port, nodes=3)
        self.cluster = LocalCluster(
            self.root / "state", nodes=3, base_port=self.base_port,
            hosts=self.network.hosts, launcher=self.network.launcher,
        )

    @property
    def gateway_port(self) -> int:
        return self.base_port + 20

    @property
    def inbox(self) -> Path:
        return self.root / "drop"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def up(self, workers: int = 2) -> None:
        reserve_ports(range(self.base_port, self.base_port + 60))
        self.cluster.reset()  # a previous run's brokers stopped before their namespaces go
        self.network.up()
        for stale in (*self.root.glob("worker-*"), self.logs, self.inbox,
                      self.root / "connectors"):  # a previous run's (RocksDB of other topics)
            shutil.rmtree(stale, ignore_errors=True)
        self.cluster.up()
        apply_topology(self.topology, self.cluster.admin_settings(), self.cluster.credentials, 3)
        # every agency's keys, as `exchange broker up` makes them on a development host: the
        # processes sign their audit checkpoints with them, --unprotected or not
        FileKeyStore(self.cluster.state_dir / "keys").init([a.id for a in self.topology.agencies])
        self.logs.mkdir(parents=True, exist_ok=True)
        self.inbox.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": self.cluster.bootstrap,
            "EXCHANGE_STATE_DIR": str(self.cluster.state_dir),
            # the brokers are not on loopback (their own namespaces): the CA is named, as an
            # agency host names its cluster's
            "EXCHANGE_KAFKA__SSL_CAFILE": str(self.cluster.pki.ca_file),
        }
        env.pop("EXCHANGE_METRICS_PORT", None)
        for i in range(workers):
            self.workers.append(Process(
                f"worker-{i + 1}",
                ["worker", "--replication", "3", "--data-dir", str(self.root / f"worker-{i + 1}"),
                 "--loglevel", "warn", "--unprotected"],  # see load.UNPROTECTED
                env, self.logs / f"worker-{i + 1}.log",
            ))
        self.gateway = Process(
            "gateway", ["connect", "run", "--unprotected", str(self._gateway_config())], env,
            self.logs / "gateway.log",
        )
        self.file_drop = Process(
            "file-drop", ["connect", "run", "--unprotected", str(self._file_drop_config())],
            env,
            self.logs / "file-drop.log",
        )
        for process in self.processes:
            process.start()

    @property
    def processes(self) -> list[Process]:
        return [*self.workers, self.gateway, self.file_drop]

    def down(self) -> None:
        """Everything killed (-9): the run is checked by then and its data thrown away; a
        graceful stop of three brokers and four processes took a minute of the short run."""
        for process in self.processes:
            process.kill()
        for node in self.cluster.nodes:  # a fault may have left one stopped (SIGSTOP)
            pid = self.cluster._status(node).pid
            if pid is not None:
                os.killpg(pid, signal.SIGCONT)
            self.cluster.stop_node(node.node_id, hard=True)
        self.network.down()

    def _gateway_config(self) -> Path:
        digest = hashlib.sha256(TOKEN.encode()).hexdigest()
        path = self.root / "gateway.toml"
        path.write_text(
            f'kind = "http-gateway"\nname = "{GATEWAY}"\nagency = "transport"\n'
            f'state_dir = "{self.root / "connectors"}"\nport = {self.gateway_port}\n'
            'publish_timeout_s = 5.0\n'
            f'[[callers]]\nagency = "transport"\ntoken_sha256 = "{digest}"\n'
            f'source = "/agencies/transport/{GATEWAY}"\n'
        )
        return path

    def _file_drop_config(self) -> Path:
        path = self.root / "file-drop.toml"
        path.write_text(
            f'kind = "file-drop"\nname = "{FILE_DROP}"\nagency = "transport"\n'
            f'state_dir = "{self.root / "connectors"}"\ninbox = "{self.inbox}"\n'
            'event_type = "transport-sighting"\npattern = "*.jsonl"\nbatch_rows = 10\n'
            'poll_interval_s = 0.2\n'
        )
        return path

    @property
    def file_drop_source(self) -> str:
        return f"/agencies/transport/connect/{FILE_DROP}"

    def replication_report(self) -> dict[str, tuple[int, str]]:
        """Every topic on the cluster (the topology's, the workers' internal ones, Kafka's
        own): its replication factor and effective ``min.insync.replicas``."""
        admin = KafkaAdminClient(**self.cluster.admin_settings().kafka_python_kwargs())
        try:
            names = sorted(admin.list_topics())
            described = {t["name"]: t for t in admin.describe_topics(names)}
            configs = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, name, ["min.insync.replicas"])
                 for name in names], config_filter="all",
            )["topic"]
        finally:
            admin.close()
        return {
            name: (min(len(p["replica_nodes"]) for p in described[name]["partitions"]),
                   str(configs[name]["min.insync.replicas"]["value"]))
            for name in names
        }
