"""Start, stop and report on a local Apache Kafka cluster (one node, or several on loopback).

Each node is a combined KRaft broker+controller running ``kafka.Kafka`` from the jars that
:mod:`exchange.broker.classpath` assembles. Everything lives under ``<state_dir>/kafka``:
``cluster.json`` (cluster id, node layout), ``lib/`` (jars), ``node-<id>/`` (config, data,
logs, pid). The admin principal's password is generated on first start and kept in
``<state_dir>/credentials/admin`` (mode 0600), where ``exchange topology apply`` and the CLI
find it. The local CA and each node's certificate live in ``<state_dir>/pki``
(:mod:`exchange.tls.pki`): made on first start, node certificates renewed by a start when they
near their end. Clients trust ``<state_dir>/pki/ca.crt``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kafka.admin import KafkaAdminClient

from exchange.broker.classpath import ensure_classpath, java_executable
from exchange.broker.config import (
    ADMIN_PRINCIPAL,
    NodeLayout,
    NodeTls,
    kafka_uuid,
    render_log4j2,
    render_server_properties,
)
from exchange.broker.exceptions import BrokerError, BrokerStartError
from exchange.broker.processes import (
    adopt,
    is_alive,
    metrics_agent,
    port_open,
    read_pid,
    tail,
)
from exchange.credentials import CredentialStore
from exchange.settings import KafkaSettings
from exchange.tls.pki import IssuedCertificate, LocalPki, PkiSettings

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_BASE_PORT = 19092
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0



@dataclass(frozen=True)
class NodeStatus:
    node_id: int
    bootstrap: str
    pid: int | None
    process_alive: bool
    port_open: bool

    @property
    def serving(self) -> bool:
        return self.process_alive and self.port_open


class LocalCluster:
    """A local Kafka cluster of ``nodes`` combined nodes under ``state_dir``.

    Client ports are ``base_port + 2*i``, controller ports ``base_port + 2*i + 1`` (both TLS).
    ``insecure_plaintext_listener`` opens a third, plaintext (SASL_PLAINTEXT) listener per node
    on ``base_port + 2*nodes + i``, for debugging and for measuring what TLS costs; each start
    with it logs a warning.

    ``hosts`` gives each node its own address (default: every node on ``host``), and
    ``launcher`` a command that each node's process is started under: the fault tests put each
    node in a network namespace of its own (``ip netns exec <name>``) to cut its network.
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        nodes: int = 1,
        base_port: int = DEFAULT_BASE_PORT,
        host: str = DEFAULT_HOST,
        heap: str = "512m",
        pki: PkiSettings | None = None,
        insecure_plaintext_listener: bool = False,
        hosts: Sequence[str] | None = None,
        launcher: Callable[[NodeLayout], Sequence[str]] | None = None,
    ) -> None:
        if nodes < 1:
            raise BrokerError("a cluster needs at least one node")
        if hosts is not None and len(hosts) != nodes:
            raise BrokerError(f"{len(hosts)} hosts for {nodes} nodes")
        self.state_dir = Path(state_dir).resolve()
        self.root = self.state_dir / "kafka"
        self.lib_dir = self.root / "lib"
        self.node_count = nodes
        self.base_port = base_port
        self.host = host
        self.hosts = list(hosts) if hosts is not None else [host] * nodes
        self.launcher = launcher
        self.heap = heap
        self.credentials = CredentialStore(self.state_dir / "credentials")
        self.pki = LocalPki(self.state_dir / "pki", pki)
        self.insecure_plaintext_listener = insecure_plaintext_listener

    # -- layout -------------------------------------------------------------------------------

    @property
    def _cluster_file(self) -> Path:
        return self.root / "cluster.json"

    def _load_layout(self) -> tuple[str, list[NodeLayout]] | None:
        if not self._cluster_file.is_file():
            return None
        raw = json.loads(self._cluster_file.read_text())
        nodes = [
            NodeLayout(
                node_id=n["node_id"],
                host=n["host"],
                client_port=n["client_port"],
                controller_port=n["controller_port"],
                directory=Path(n["directory"]),
                directory_id=n["directory_id"],
            )
            for n in raw["nodes"]
        ]
        return raw["cluster_id"], nodes

    def _new_layout(self) -> tuple[str, list[NodeLayout]]:
        nodes = [
            NodeLayout(
                node_id=i + 1,
                host=self.hosts[i],
                client_port=self.base_port + 2 * i,
                controller_port=self.base_port + 2 * i + 1,
                directory=(self.root / f"node-{i + 1}").resolve(),
                directory_id=kafka_uuid(),
            )
            for i in range(self.node_count)
        ]
        return kafka_uuid(), nodes

    def _save_layout(self, cluster_id: str, nodes: list[NodeLayout]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        payload = {
            "cluster_id": cluster_id,
            "nodes": [
                {
                    "node_id": n.node_id,
                    "host": n.host,
                    "client_port": n.client_port,
                    "controller_port": n.controller_port,
                    "directory": str(n.directory),
                    "directory_id": n.directory_id,
                }
                for n in nodes
            ],
        }
        self._cluster_file.write_text(json.dumps(payload, indent=2) + "\n")

    @property
    def nodes(self) -> list[NodeLayout]:
        layout = self._load_layout()
        return layout[1] if layout else self._new_layout()[1]

    @property
    def bootstrap(self) -> str:
        return ",".join(n.bootstrap for n in self.nodes)

    def client_settings(self) -> KafkaSettings:
        """Settings that reach this cluster over TLS, trusting its CA (add a principal with
        :meth:`KafkaSettings.with_principal`)."""
        return KafkaSettings(
            bootstrap_servers=self.bootstrap, security_protocol="SASL_SSL",
            ssl_cafile=self.pki.ca_file,
        )

    def admin_settings(self) -> KafkaSettings:
        """Settings that reach this cluster as the provisioning ``admin`` principal."""
        return self.client_settings().with_principal(
            ADMIN_PRINCIPAL, self.credentials.password_for(ADMIN_PRINCIPAL)
        )

    def plaintext_port(self, node: NodeLayout) -> int:
        nodes = self.nodes
        return nodes[0].client_port + 2 * len(nodes) + nodes.index(node)

    def insecure_settings(self) -> KafkaSettings:
        """Settings for the plaintext listener (only with ``insecure_plaintext_listener``)."""
        if not self.insecure_plaintext_listener:
            raise BrokerError("this cluster has no plaintext listener (it is never the default)")
        bootstrap = ",".join(f"{n.host}:{self.plaintext_port(n)}" for n in self.nodes)
        return KafkaSettings(
            bootstrap_servers=bootstrap, security_protocol="SASL_PLAINTEXT"
        ).with_principal(ADMIN_PRINCIPAL, self.credentials.password_for(ADMIN_PRINCIPAL))

    # -- lifecycle ----------------------------------------------------------------------------

    def up(self, timeout_s: float = START_TIMEOUT_S) -> list[NodeStatus]:
        """Build the classpath if needed, format storage on first start, start every node that
        is not running, and wait until each serves authenticated requests."""
        ensure_classpath(self.lib_dir)
        layout = self._load_layout()
        fresh = layout is None
        cluster_id, nodes = layout if layout else self._new_layout()
        admin_password = self.credentials.password_for(ADMIN_PRINCIPAL)
        controller_password = self.credentials.password_for("controller")
        if self.insecure_plaintext_listener:
            log.warning(
                "INSECURE: the local Kafka opens a PLAINTEXT listener beside TLS (records cross "
                "loopback unencrypted); never use it for real data"
            )
        for node in nodes:
            node.log_dir.mkdir(parents=True, exist_ok=True)
            tls = self._node_tls(node)
            plaintext_port = (
                nodes[0].client_port + 2 * len(nodes) + nodes.index(node)
                if self.insecure_plaintext_listener else None
            )
            node.properties_file.write_text(
                render_server_properties(
                    node, nodes, admin_password=admin_password,
                    controller_password=controller_password, tls=tls,
                    plaintext_port=plaintext_port,
                )
            )
            node.log4j_file.write_text(render_log4j2(node))
            if fresh or not (node.data_dir / "meta.properties").is_file():
                self._format(node, nodes, cluster_id, admin_password)
        if fresh:
            self._save_layout(cluster_id, nodes)
        for node in nodes:
            if not self._status(node).process_alive:
                self._check_ports_free(node)
                self._start(node)
        deadline = time.monotonic() + timeout_s
        for node in nodes:
            self._wait_serving(node, deadline)
        self._wait_ready(deadline)
        return self.status()

    def down(self, timeout_s: float = STOP_TIMEOUT_S) -> list[int]:
        """Stop every running node (SIGTERM, then SIGKILL after ``timeout_s``).

        Returns the ids of the nodes that were running."""
        stopped = []
        for node in self.nodes:
            pid = read_pid(node.pid_file)
            if pid is None or not is_alive(pid):
                node.pid_file.unlink(missing_ok=True)
                continue
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while is_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if is_alive(pid):
                os.killpg(pid, signal.SIGKILL)
            node.pid_file.unlink(missing_ok=True)
            stopped.append(node.node_id)
        return stopped

    def certificates(self) -> list[IssuedCertificate]:
        """Issue (or renew, near their end) the CA and each node's certificate, starting
        nothing: what ``docker-compose.kafka.yml`` mounts from ``<state>/pki``."""
        return [self.pki.server(f"node-{n.node_id}", [n.host]) for n in self.nodes]

    def _node_tls(self, node: NodeLayout) -> NodeTls:
        """The node's keystore, issued on first start and renewed near its end; a node that is
        already running keeps the certificate it loaded until it restarts."""
        issued = self.pki.server(f"node-{node.node_id}", [node.host])
        if issued.renewed and self._status(node).process_alive:
            log.warning(
                "node %s runs with its old certificate; restart it (exchange broker down, then "
                "up) to serve the renewed one in %s", node.node_id, issued.path,
            )
        return NodeTls(keystore=issued.path, truststore=self.pki.ca_file)

    def stop_node(self, node_id: int, *, hard: bool = False) -> None:
        """Stop one node (for fault tests): SIGTERM, or SIGKILL when ``hard``."""
        node = next(n for n in self.nodes if n.node_id == node_id)
        pid = read_pid(node.pid_file)
        if pid is not None and is_alive(pid):
            os.killpg(pid, signal.SIGKILL if hard else signal.SIGTERM)
            while is_alive(pid):
                time.sleep(0.1)
        node.pid_file.unlink(missing_ok=True)

    def start_node(self, node_id: int, timeout_s: float = START_TIMEOUT_S) -> None:
        node = next(n for n in self.nodes if n.node_id == node_id)
        self._start(node)
        self._wait_serving(node, time.monotonic() + timeout_s)

    def reset(self) -> None:
        """Stop the cluster and delete its data, logs and layout (jars and credentials stay)."""
        self.down()
        for child in self.root.glob("node-*"):
            shutil.rmtree(child)
        self._cluster_file.unlink(missing_ok=True)

    def status(self) -> list[NodeStatus]:
        return [self._status(n) for n in self.nodes]

    # -- internals ----------------------------------------------------------------------------

    def _java(self, node: NodeLayout, main: str, *args: str, heap: str | None = None) -> list[str]:
        heap = heap or self.heap
        return [
            java_executable(), f"-Xmx{heap}",
            "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={node.log4j_file}",
            "-cp", f"{self.lib_dir}/*", main, *args,
        ]

    def _format(
        self, node: NodeLayout, nodes: list[NodeLayout], cluster_id: str, admin_password: str
    ) -> None:
        command = self._java(
            node, "kafka.tools.StorageTool", "format",
            "--cluster-id", cluster_id,
            "--config", str(node.properties_file),
            "--initial-controllers", ",".join(n.voter for n in nodes),
            "--add-scram", f"SCRAM-SHA-512=[name={ADMIN_PRINCIPAL},password={admin_password}]",
            "--ignore-formatted",
            heap="256m",
        )
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BrokerStartError(
                node.node_id, "formatting storage failed", node.log_dir / "server.log",
                (done.stdout + done.stderr)[-3000:].replace(admin_password, "***"),
            )

    def _start(self, node: NodeLayout) -> None:
        out = (node.log_dir / "stdout.log").open("ab")
        command = self._java(node, "kafka.Kafka", str(node.properties_file))
        prefix = list(self.launcher(node)) if self.launcher is not None else []
        process = subprocess.Popen(
            [*prefix, command[0], *metrics_agent(self.lib_dir, node), *command[1:]],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=node.directory,
        )
        out.close()
        adopt(process)
        node.pid_file.write_text(f"{process.pid}\n")

    def _check_ports_free(self, node: NodeLayout) -> None:
        ports = [node.client_port, node.controller_port, node.metrics_port]
        if self.insecure_plaintext_listener:
            ports.append(self.plaintext_port(node))
        for port in ports:
            if port_open(node.host, port):
                raise BrokerStartError(
                    node.node_id,
                    f"port {node.host}:{port} is already in use by another process (another "
                    "Kafka?); stop it, or run this cluster elsewhere",
                    node.log_dir / "server.log", "",
                )

    def _status(self, node: NodeLayout) -> NodeStatus:
        pid = read_pid(node.pid_file)
        alive = pid is not None and is_alive(pid)
        return NodeStatus(
            node_id=node.node_id, bootstrap=node.bootstrap, pid=pid if alive else None,
            process_alive=alive, port_open=alive and port_open(node.host, node.client_port),
        )

    def _wait_serving(self, node: NodeLayout, deadline: float) -> None:
        while time.monotonic() < deadline:
            status = self._status(node)
            if not status.process_alive:
                raise BrokerStartError(
                    node.node_id, "the java process exited", node.log_dir / "server.log",
                    tail(node.log_dir / "stdout.log") or tail(node.log_dir / "server.log"),
                )
            if status.port_open:
                return
            time.sleep(0.3)
        raise BrokerStartError(
            node.node_id, "timed out waiting for the client port", node.log_dir / "server.log",
            tail(node.log_dir / "server.log"),
        )

    def _wait_ready(self, deadline: float) -> None:
        """Wait until the cluster answers an authenticated metadata request with every node."""
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                client = KafkaAdminClient(**self.admin_settings().kafka_python_kwargs())
                try:
                    brokers = client.describe_cluster()["brokers"]
                finally:
                    client.close()
                if len(brokers) >= self.node_count:
                    return
            except Exception as error:  # noqa: BLE001 - any failure means "not ready yet"
                last_error = error
            time.sleep(0.5)
        node = self.nodes[0]
        raise BrokerStartError(
            node.node_id, f"cluster not ready in time ({last_error!r})",
            node.log_dir / "server.log", tail(node.log_dir / "server.log"),
        )
