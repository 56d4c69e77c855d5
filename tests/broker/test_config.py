"""The local broker's rendered configuration is secure, and docker-compose describes the same."""

from __future__ import annotations

import re
from pathlib import Path

from exchange.broker.config import NodeLayout, render_server_properties

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
)


def _node(tmp_path: Path) -> NodeLayout:
    return NodeLayout(1, "127.0.0.1", 19092, 19093, tmp_path, "AAAAAAAAAAAAAAAAAAAAAA")


def _properties(text: str) -> dict[str, str]:
    pairs = (re.match(r"^\s*([a-z0-9.-]+)=(.*)$", line) for line in text.splitlines())
    return {m.group(1): m.group(2) for m in pairs if m}


def test_broker_is_secured_from_day_one(tmp_path: Path) -> None:
    node = _node(tmp_path)
    props = _properties(
        render_server_properties(node, [node], admin_password="a", controller_password="c")
    )
    assert props["listener.security.protocol.map"] == (
        "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
    )
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:admin;User:controller"
    assert props["auto.create.topics.enable"] == "false"


def test_docker_compose_describes_the_same_broker(tmp_path: Path) -> None:
    node = _node(tmp_path)
    local = _properties(
        render_server_properties(node, [node], admin_password="a", controller_password="c")
    )
    compose = _properties((REPO / "docker-compose.kafka.yml").read_text())
    assert "apache/kafka:4.1.1" in (REPO / "docker-compose.kafka.yml").read_text()
    for key in SECURITY_KEYS:
        assert compose.get(key) == local[key], key


def test_compose_image_matches_the_pom_kafka_version() -> None:
    pom = (REPO / "exchange" / "broker" / "pom.xml").read_text()
    version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert version
    assert f"apache/kafka:{version.group(1)}" in (REPO / "docker-compose.kafka.yml").read_text()
