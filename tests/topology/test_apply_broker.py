"""Apply a small topology to the real broker, then act as its agencies.

Each test declares fresh agencies and topics (via ``unique``), so runs never collide.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from exchange.credentials import CredentialStore
from exchange.settings import KafkaSettings
from exchange.topology import (
    ClusterAdmin,
    CreateAcl,
    DeleteAcl,
    Topology,
    apply_topology,
    load_topology,
    plan_against_cluster,
)
from exchange.topology.acl import AclBinding

pytestmark = pytest.mark.broker
WAIT_S = 20


@dataclass(frozen=True)
class Small:
    topology: Topology
    sender: str
    receiver: str
    to_receiver: str
    to_sender: str


def _agency(agency_id: str) -> str:
    return f"""
[[agency]]
id = "{agency_id}"
name_zh = "测试"
name_en = "Test {agency_id}"
principal = "agency.{agency_id}"
"""


def _topic(name: str, owner: str, reader: str) -> str:
    return f"""
[[topic]]
name = "{name}"
purpose = "test"
owner = "{owner}"
readers = ["{reader}"]
event_types = ["exchange.events.Referral"]
retention_ms = 3600000
"""


def _small(root: Path, unique: Callable[[str], str]) -> Small:
    sender = unique("snd").replace(".", "-").lower()
    receiver = unique("rcv").replace(".", "-").lower()
    ops = unique("ops").replace(".", "-").lower()
    to_receiver, to_sender = unique("t.to-rcv"), unique("t.to-snd")
    (root / "agencies.toml").write_text(
        _agency(sender) + _agency(receiver) + _agency(ops), encoding="utf-8"
    )
    (root / "topics.toml").write_text(
        "[defaults]\npartitions = 2\nreplication_factor = 3\nmin_insync_replicas = 2\n"
        + _topic(to_receiver, sender, receiver)
        + _topic(to_sender, receiver, sender)
        + f"""
[[inbox]]
name = "{to_receiver}.dl.{{agency}}"
purpose = "dead letters of {{agency}}"
for = ["{sender}", "{receiver}"]
owner = "{{agency}}"
readers = ["{ops}"]
event_types = ["exchange.events.Referral"]
retention_ms = 3600000
""",
        encoding="utf-8",
    )
    return Small(load_topology(root), sender, receiver, to_receiver, to_sender)


def _as(settings: KafkaSettings, store: CredentialStore, topology: Topology, agency: str) -> Any:
    principal = topology.principal_of(agency)
    password = store.get(principal)
    assert password is not None
    return settings.with_principal(principal, password).aiokafka_kwargs()


async def _produce(kwargs: dict[str, Any], topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(**{**kwargs, "request_timeout_ms": 10_000}, enable_idempotence=True)
    try:
        await asyncio.wait_for(producer.start(), WAIT_S)
        await asyncio.wait_for(producer.send_and_wait(topic, value, key=b"case-1"), WAIT_S)
    finally:
        await asyncio.wait_for(producer.stop(), WAIT_S)


async def _consume_one(kwargs: dict[str, Any], topic: str, group: str) -> bytes | None:
    consumer = AIOKafkaConsumer(
        topic, **kwargs, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False
    )
    try:
        await asyncio.wait_for(consumer.start(), WAIT_S)
        record = await asyncio.wait_for(consumer.getone(), WAIT_S)
        value: bytes | None = record.value
        return value
    finally:
        await asyncio.wait_for(consumer.stop(), WAIT_S)


@pytest.fixture
def small(tmp_path: Path, unique: Callable[[str], str]) -> Small:
    root = tmp_path / "topology"
    root.mkdir()
    return _small(root, unique)


async def test_apply_then_agencies_have_exactly_their_rights(
    kafka: Any, small: Small, tmp_path: Path
) -> None:
    settings: KafkaSettings = kafka.admin
    store = CredentialStore(tmp_path / "credentials")
    result = await asyncio.to_thread(apply_topology, small.topology, settings, store, 1)
    assert result.ok
    assert len(result.applied) > 10
    again = await asyncio.to_thread(plan_against_cluster, small.topology, settings, 1)
    assert again.is_empty, again.render()

    sender = _as(settings, store, small.topology, small.sender)
    receiver = _as(settings, store, small.topology, small.receiver)
    await _produce(sender, small.to_receiver, b"referral")
    await _produce(sender, f"{small.to_receiver}.dl.{small.sender}", b"dead letter")
    assert await _consume_one(receiver, small.to_receiver, f"{small.receiver}.g") == b"referral"

    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(sender, small.to_sender, b"not mine to write")
    with pytest.raises(TopicAuthorizationFailedError):
        await _consume_one(sender, small.to_receiver, f"{small.sender}.g")


async def test_wrong_password_cannot_connect(kafka: Any, small: Small, tmp_path: Path) -> None:
    settings: KafkaSettings = kafka.admin
    store = CredentialStore(tmp_path / "credentials")
    await asyncio.to_thread(apply_topology, small.topology, settings, store, 1)
    principal = small.topology.principal_of(small.sender)
    wrong = settings.with_principal(principal, "not-the-password").aiokafka_kwargs()
    with pytest.raises(KafkaError):
        await _produce(wrong, small.to_receiver, b"x")


def test_drift_is_planned_back(kafka: Any, small: Small, tmp_path: Path) -> None:
    """An extra ACL and a changed retention are seen by plan and undone by apply."""
    settings: KafkaSettings = kafka.admin
    store = CredentialStore(tmp_path / "credentials")
    assert apply_topology(small.topology, settings, store, 1).ok
    extra = AclBinding(f"User:agency.{small.sender}", "TOPIC", small.to_receiver, "LITERAL", "READ")
    with ClusterAdmin(settings) as admin:
        admin.create_acls([extra])
        admin.set_topic_configs(small.to_receiver, {"retention.ms": "1000"})
    drift = plan_against_cluster(small.topology, settings, 1)
    assert DeleteAcl(extra) in drift.actions
    assert f"~ topic {small.to_receiver}: retention.ms 1000 -> 3600000" in drift.render()
    assert not [a for a in drift.actions if isinstance(a, CreateAcl)]
    assert apply_topology(small.topology, settings, store, 1).ok
    assert plan_against_cluster(small.topology, settings, 1).is_empty
