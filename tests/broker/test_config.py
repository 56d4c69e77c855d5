"""The local broker's rendered configuration is secure, and docker-compose describes the same."""

from __future__ import annotations

import re
from pathlib import Path

from exchange.broker.config import NodeLayout, NodeTls, render_server_properties

REPO = Path(__file__).resolve().parents[2]
SECURITY_KEYS = (
    "process.roles",
    "listener.security.protocol.map",
    "inter.broker.listener.name",
    "controller.listener.names",
    "sasl.enabled.mechanisms",
    "sasl.mechanism.inter.broker.protocol",
    "sasl.mechanism.controller.protocol",
    "listener.name.controller.sasl.enabled.mechanisms",
    "authorizer.class.name",
    "allow.everyone.if.no.acl.found",
    "super.users",
    "auto.create.topics.enable",
    "num.partitions",
    "ssl.enabled.protocols",
    "ssl.protocol",
    "ssl.keystore.type",
    "ssl.truststore.type",
    "ssl.endpoint.identification.algorithm",
    "ssl.client.auth",
)


def _node(tmp_path: Path) -> NodeLayout:
    return NodeLayout(1, "127.0.0.1", 19092, 19093, tmp_path, "AAAAAAAAAAAAAAAAAAAAAA")


def _render(node: NodeLayout, plaintext_port: int | None = None) -> str:
    tls = NodeTls(keystore=node.directory / "node-1.pem", truststore=node.directory / "ca.crt")
    return render_server_properties(
        node, [node], admin_password="a", controller_password="c", tls=tls,
        plaintext_port=plaintext_port,
    )


def _properties(text: str) -> dict[str, str]:
    pairs = (re.match(r"^\s*([a-z0-9.-]+)=(.*)$", line) for line in text.splitlines())
    return {m.group(1): m.group(2) for m in pairs if m}


def test_broker_is_secured_from_day_one(tmp_path: Path) -> None:
    node = _node(tmp_path)
    props = _properties(_render(node))
    assert props["listener.security.protocol.map"] == "CLIENT:SASL_SSL,CONTROLLER:SASL_SSL"
    assert "PLAINTEXT" not in props["listeners"] + props["listener.security.protocol.map"]
    assert props["ssl.enabled.protocols"] == "TLSv1.3,TLSv1.2"
    assert props["ssl.keystore.type"] == props["ssl.truststore.type"] == "PEM"
    assert props["ssl.keystore.location"] == str(tmp_path / "node-1.pem")
    assert props["ssl.truststore.location"] == str(tmp_path / "ca.crt")
    assert props["ssl.endpoint.identification.algorithm"] == "https"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:admin;User:controller"
    assert props["auto.create.topics.enable"] == "false"


def test_docker_compose_describes_the_same_broker(tmp_path: Path) -> None:
    node = _node(tmp_path)
    local = _properties(_render(node))
    compose = _properties((REPO / "docker-compose.kafka.yml").read_text())
    # The same files of the same state folder layout, mounted at /etc/kafka/pki.
    assert compose["ssl.keystore.location"] == "/etc/kafka/pki/node-1.pem"
    assert compose["ssl.truststore.location"] == "/etc/kafka/pki/ca.crt"
    assert "./.state/pki:/etc/kafka/pki:ro" in (REPO / "docker-compose.kafka.yml").read_text()
    assert "apache/kafka:4.1.1" in (REPO / "docker-compose.kafka.yml").read_text()
    for key in SECURITY_KEYS:
        assert compose.get(key) == local[key], key


def test_compose_image_matches_the_pom_kafka_version() -> None:
    pom = (REPO / "exchange" / "broker" / "pom.xml").read_text()
    version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert version
    assert f"apache/kafka:{version.group(1)}" in (REPO / "docker-compose.kafka.yml").read_text()


def test_a_plaintext_listener_only_when_asked_for(tmp_path: Path) -> None:
    node = _node(tmp_path)
    props = _properties(_render(node, plaintext_port=19094))
    assert props["listener.security.protocol.map"] == (
        "CLIENT:SASL_SSL,CONTROLLER:SASL_SSL,INSECURE:SASL_PLAINTEXT"
    )
    assert "INSECURE://127.0.0.1:19094" in props["listeners"]
    assert props["inter.broker.listener.name"] == "CLIENT"  # brokers still talk TLS
    assert props["listener.name.insecure.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
