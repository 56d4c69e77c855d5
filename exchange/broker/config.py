"""Render the configuration of each local broker node.

Security from day one:

- ``CLIENT`` listener: SASL_SSL with SCRAM-SHA-512 over TLS 1.2+. Every agency system is its
  own SCRAM principal (created by ``exchange topology apply``); the ``admin`` principal
  provisions and is the only super user clients can be. Brokers talk to each other on this
  listener as ``admin``, verifying each other's certificate and host name.
- ``CONTROLLER`` listener: SASL_SSL with PLAIN and a static ``controller`` principal known only
  to the nodes (KRaft controllers cannot use SCRAM, whose credentials live in the metadata they
  serve).
- TLS material is PEM, which Kafka 4.x reads directly: each node's keystore is
  ``<state>/pki/node-<id>.pem`` (its key, certificate and the CA's; ``ssl.keystore.type=PEM``)
  and every node trusts ``<state>/pki/ca.crt`` (``ssl.truststore.type=PEM``), both made by
  :mod:`exchange.tls.pki`.
- No plaintext listener, unless one is asked for by name for debugging or measuring
  (``INSECURE``: SASL_PLAINTEXT, SCRAM still required; ``exchange broker up
  --insecure-plaintext-listener``), and then the start logs a warning.
- ``StandardAuthorizer`` with ``allow.everyone.if.no.acl.found=false``: no ACL means deny.
- Denials and grants are logged by ``kafka.authorizer.logger`` to ``authorizer.log``.

``docker-compose.kafka.yml`` describes the same topology for users who run Docker; keep the two
in step.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path

ADMIN_PRINCIPAL = "admin"
CONTROLLER_PRINCIPAL = "controller"


def kafka_uuid() -> str:
    """A random Kafka ``Uuid`` in its base64url text form (never starting with ``-``)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


METRICS_PORT_OFFSET = 50
JMX_EXPORTER_CONFIG = Path(__file__).with_name("jmx-exporter.yml")


@dataclass(frozen=True)
class NodeTls:
    """A node's TLS files: its PEM keystore (key + chain) and the CA it trusts."""

    keystore: Path
    truststore: Path


@dataclass(frozen=True)
class NodeLayout:
    """Where one node listens and keeps its files."""

    node_id: int
    host: str
    client_port: int
    controller_port: int
    directory: Path
    directory_id: str

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_dir(self) -> Path:
        return self.directory / "logs"

    @property
    def properties_file(self) -> Path:
        return self.directory / "server.properties"

    @property
    def log4j_file(self) -> Path:
        return self.directory / "log4j2.yaml"

    @property
    def pid_file(self) -> Path:
        return self.directory / "pid"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.client_port}"

    @property
    def metrics_port(self) -> int:
        """Where the node's JMX exporter agent serves Prometheus metrics (client port + 50)."""
        return self.client_port + METRICS_PORT_OFFSET

    @property
    def voter(self) -> str:
        return f"{self.node_id}@{self.host}:{self.controller_port}:{self.directory_id}"


def render_server_properties(
    node: NodeLayout,
    all_nodes: list[NodeLayout],
    *,
    admin_password: str,
    controller_password: str,
    tls: NodeTls,
    plaintext_port: int | None = None,
) -> str:
    """``server.properties`` of ``node``; ``plaintext_port`` opens the ``INSECURE`` listener
    (SASL_PLAINTEXT), for debugging and for measuring what TLS costs, never by default."""
    quorum = ",".join(f"{n.host}:{n.controller_port}" for n in all_nodes)
    replicas = min(3, len(all_nodes))
    min_isr = min(2, replicas)
    admin_jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{ADMIN_PRINCIPAL}" password="{admin_password}";'
    )
    controller_jaas = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{CONTROLLER_PRINCIPAL}" password="{controller_password}" '
        f'user_{CONTROLLER_PRINCIPAL}="{controller_password}";'
    )
    insecure = insecure_map = ""
    insecure_lines: list[str] = []
    if plaintext_port is not None:
        insecure = f",INSECURE://{node.host}:{plaintext_port}"
        insecure_map = ",INSECURE:SASL_PLAINTEXT"
        insecure_lines = [
            "# INSECURE: a plaintext listener opened on purpose (debugging, measuring TLS).",
            "listener.name.insecure.sasl.enabled.mechanisms=SCRAM-SHA-512",
            f"listener.name.insecure.scram-sha-512.sasl.jaas.config={admin_jaas}",
        ]
    lines = [
        "# Written by `exchange broker up`; edits are overwritten.",
        "process.roles=broker,controller",
        f"node.id={node.node_id}",
        f"controller.quorum.bootstrap.servers={quorum}",
        f"listeners=CLIENT://{node.host}:{node.client_port},"
        f"CONTROLLER://{node.host}:{node.controller_port}{insecure}",
        f"advertised.listeners=CLIENT://{node.bootstrap}{insecure}",
        f"listener.security.protocol.map=CLIENT:SASL_SSL,CONTROLLER:SASL_SSL{insecure_map}",
        "inter.broker.listener.name=CLIENT",
        "controller.listener.names=CONTROLLER",
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
        "sasl.mechanism.controller.protocol=PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
        f"listener.name.controller.plain.sasl.jaas.config={controller_jaas}",
        f"listener.name.client.scram-sha-512.sasl.jaas.config={admin_jaas}",
        *insecure_lines,
        "ssl.enabled.protocols=TLSv1.3,TLSv1.2",
        "ssl.protocol=TLSv1.3",
        "ssl.keystore.type=PEM",
        f"ssl.keystore.location={tls.keystore}",
        "ssl.truststore.type=PEM",
        f"ssl.truststore.location={tls.truststore}",
        "ssl.endpoint.identification.algorithm=https",
        "ssl.client.auth=none",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found=false",
        f"super.users=User:{ADMIN_PRINCIPAL};User:{CONTROLLER_PRINCIPAL}",
        f"log.dirs={node.data_dir}",
        "auto.create.topics.enable=false",
        f"default.replication.factor={replicas}",
        f"min.insync.replicas={min_isr}",
        f"offsets.topic.replication.factor={replicas}",
        f"transaction.state.log.replication.factor={replicas}",
        f"transaction.state.log.min.isr={min_isr}",
        "group.initial.rebalance.delay.ms=0",
        "num.partitions=3",
        # Local development: keep segments small so retention tests and disk use stay modest.
        "log.segment.bytes=67108864",
    ]
    return "\n".join(lines) + "\n"


def render_log4j2(node: NodeLayout) -> str:
    return f"""\
Configuration:
  Appenders:
    RollingFile:
      - name: server
        fileName: {node.log_dir}/server.log
        filePattern: {node.log_dir}/server.log.%i
        PatternLayout: {{pattern: "[%d] %p %m (%c)%n"}}
        Policies: {{SizeBasedTriggeringPolicy: {{size: 50MB}}}}
        DefaultRolloverStrategy: {{max: 3}}
      - name: authorizer
        fileName: {node.log_dir}/authorizer.log
        filePattern: {node.log_dir}/authorizer.log.%i
        PatternLayout: {{pattern: "[%d] %p %m (%c)%n"}}
        Policies: {{SizeBasedTriggeringPolicy: {{size: 50MB}}}}
        DefaultRolloverStrategy: {{max: 3}}
  Loggers:
    Root:
      level: INFO
      AppenderRef: [{{ref: server}}]
    Logger:
      - name: kafka.authorizer.logger
        level: INFO
        additivity: false
        AppenderRef: [{{ref: authorizer}}]
"""
