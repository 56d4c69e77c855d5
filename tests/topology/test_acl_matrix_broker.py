"""The denial matrix, against the real broker: every principal of the topology is refused every
topic it is not entitled to (read and write), other agencies' consumer groups and transactional
ids, topics outside its grants by wildcard subscription, topic creation and ACL changes; each
denial is in the broker's ``authorizer.log``. A wrong password or an unknown user cannot connect.

Reads are checked with a real Fetch (``assign`` + ``seek`` + ``poll``: needs READ), writes with a
real Produce (needs DESCRIBE for metadata, then WRITE), so a principal that may describe a topic
(because it writes it) is still refused its records.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaClient, AIOKafkaProducer
from aiokafka.errors import KafkaError as AioKafkaError
from aiokafka.errors import TopicAuthorizationFailedError as AioTopicAuthorizationFailedError
from aiokafka.protocol.fetch import FetchRequest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ACL, ACLOperation, ACLPermissionType, ResourcePattern
from kafka.admin import ResourceType as AdminResourceType
from kafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailedError,
)

from exchange.settings import KafkaSettings
from exchange.topology.model import Topology

pytestmark = pytest.mark.broker

TIMEOUT_S = 15.0
TOPIC_AUTHORIZATION_FAILED = 29  # Kafka protocol error code


def forbidden_reads(topology: Topology, agency: str) -> list[str]:
    return sorted(t.name for t in topology.topics if agency not in t.readers)


def forbidden_writes(topology: Topology, agency: str) -> list[str]:
    return sorted(t.name for t in topology.topics if agency not in t.writers)


def authorizer_log(provisioned) -> str:
    cluster = provisioned.broker.cluster
    assert cluster is not None, "the matrix reads the test broker's own authorizer.log"
    texts = []
    for node in cluster.nodes:
        for file in sorted(Path(node.log_dir).glob("authorizer.log*")):
            texts.append(file.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def denied_resources(log_text: str, principal: str) -> set[str]:
    """``Topic:LITERAL:name``-style resources the log says ``principal`` was denied."""
    pattern = re.compile(
        rf"Principal = User:{re.escape(principal)} is Denied operation = \w+ "
        r"from host = \S+ on resource = (\w+):(\w+):(\S+)"
    )
    return {f"{m[1]}:{m[3]}" for m in pattern.finditer(log_text)}


def poll_subscribed(consumer: KafkaConsumer, topic: str) -> None:
    consumer.subscribe([topic])
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        consumer.poll(timeout_ms=200)


def create_acls(admin: KafkaAdminClient, acl: ACL) -> None:
    result = admin.create_acls([acl])
    assert not result["succeeded"], "an agency created an ACL"
    for error_class in result["failed"]:
        raise error_class()


def list_topics(settings: KafkaSettings) -> None:
    consumer = KafkaConsumer(**settings.kafka_python_kwargs())
    try:
        consumer.topics()
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def agencies(provisioned) -> list[str]:
    return [a.id for a in provisioned.topology.agencies]


def consumer_for(settings: KafkaSettings, **extra: object) -> KafkaConsumer:
    return KafkaConsumer(**settings.kafka_python_kwargs(), enable_auto_commit=False, **extra)


async def fetch_errors(settings: KafkaSettings, topics: list[str]) -> dict[str, int]:
    """Send one real Fetch (partition 0 of each topic) and return each topic's error code.

    A raw request, as a rogue client would send it without asking for metadata first: the
    broker must check READ itself.
    """
    client = AIOKafkaClient(**settings.aiokafka_kwargs())
    await client.bootstrap()
    try:
        node = next(iter(client.cluster.brokers())).nodeId
        request = FetchRequest(
            max_wait_time=100,
            min_bytes=1,
            max_bytes=1 << 20,
            isolation_level=0,
            topics=[(topic, [(0, 0, 1 << 16)]) for topic in topics],
        )
        response = await client.send(node, request)
    finally:
        await client.close()
    return {entry[0]: entry[1][0][1] for entry in response.topics}


async def write_refused(producer: AIOKafkaProducer, topic: str) -> bool:
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, b"denial-matrix"), TIMEOUT_S)
    except AioTopicAuthorizationFailedError:
        return True
    return False


async def test_every_principal_is_denied_every_topic_it_is_not_entitled_to(
    provisioned, agencies: list[str]
) -> None:
    topology = provisioned.topology
    refused: dict[str, set[str]] = {}
    checked = 0
    for agency in agencies:
        settings = provisioned.kafka_as(agency)
        reads = forbidden_reads(topology, agency)
        writes = forbidden_writes(topology, agency)
        assert reads, f"{agency} may read every topic?"
        assert writes, f"{agency} may write every topic?"
        errors = await fetch_errors(settings, reads)
        not_denied = sorted(t for t in reads if errors.get(t) != TOPIC_AUTHORIZATION_FAILED)
        assert not not_denied, f"{agency} was not refused a fetch from {not_denied}"
        producer = AIOKafkaProducer(**settings.aiokafka_kwargs(), acks="all")
        await producer.start()
        try:
            not_denied = [t for t in writes if not await write_refused(producer, t)]
        finally:
            await producer.stop()
        assert not not_denied, f"{agency} could write {not_denied}"
        refused[agency] = {f"Topic:{t}" for t in {*reads, *writes}}
        checked += len(reads) + len(writes)
    assert checked > len(agencies) * len(topology.topics)  # the matrix is not empty
    log_text = authorizer_log(provisioned)
    for agency, resources in refused.items():
        logged = denied_resources(log_text, topology.principal_of(agency))
        missing = sorted(resources - logged)
        assert not missing, f"authorizer.log has no denial of {agency} for {missing[:5]}"


def test_groups_and_transactional_ids_of_other_agencies_are_denied(
    provisioned, agencies: list[str]
) -> None:
    topology = provisioned.topology
    log_expect: dict[str, set[str]] = {}
    for agency in agencies:
        other = next(a for a in agencies if a != agency)
        settings = provisioned.kafka_as(agency)
        readable = topology.topics_readable_by(agency)
        topic = readable[0].name if readable else "exchange.sighting"
        group = f"{other}.stolen-group"
        consumer = consumer_for(settings, group_id=group)
        try:
            with pytest.raises((GroupAuthorizationFailedError, TopicAuthorizationFailedError)):
                poll_subscribed(consumer, topic)
        finally:
            consumer.close()
        producer = KafkaProducer(
            **settings.kafka_python_kwargs(),
            transactional_id=f"{other}.stolen-tx",
            max_block_ms=10_000,
        )
        try:
            with pytest.raises(TransactionalIdAuthorizationFailedError):
                producer.init_transactions()
        finally:
            producer.close(timeout=5)
        log_expect[agency] = {f"TransactionalId:{other}.stolen-tx"}
        if readable:
            log_expect[agency].add(f"Group:{group}")
    log_text = authorizer_log(provisioned)
    for agency, resources in log_expect.items():
        missing = resources - denied_resources(log_text, topology.principal_of(agency))
        assert not missing, f"authorizer.log has no denial of {agency} for {sorted(missing)}"


def test_wildcard_subscription_reaches_no_record_outside_the_agency_grants(
    provisioned, agencies: list[str]
) -> None:
    """A pattern subscription is matched against the topics the principal may describe (those
    it reads or writes, every topic for an observer of the cluster: the operators); a topic it
    only describes or writes is assigned but every fetch from it is refused.
    """
    topology = provisioned.topology
    for agency in agencies:
        readable = {t.name for t in topology.topics_readable_by(agency)}
        describable = readable | {t.name for t in topology.topics_writable_by(agency)}
        if topology.agency(agency).observes_cluster:
            describable |= {t.name for t in topology.topics}
        if not readable:
            continue
        consumer = consumer_for(
            provisioned.kafka_as(agency),
            group_id=f"{agency}.wildcard-matrix",
            auto_offset_reset="earliest",
        )
        seen: set[str] = set()
        refused_topics: set[str] = set()
        denied_fetch = False
        try:
            consumer.subscribe(pattern=r"^exchange\..*")
            deadline = time.monotonic() + TIMEOUT_S
            while time.monotonic() < deadline and not (consumer.assignment() and denied_fetch):
                try:
                    for tp, _records in consumer.poll(timeout_ms=200).items():
                        seen.add(tp.topic)
                except TopicAuthorizationFailedError as denied:
                    denied_fetch = True
                    refused_topics.update(denied.args[0])
                if consumer.assignment() and describable == readable:
                    break
            assigned = {tp.topic for tp in consumer.assignment()}
        finally:
            consumer.close()
        assert assigned, f"{agency}'s wildcard subscription got nothing"
        assert assigned <= describable, f"{agency} was assigned {sorted(assigned - describable)}"
        assert seen <= readable, f"{agency} fetched records of {sorted(seen - readable)}"
        assert not refused_topics & readable, f"{agency} was refused its own {refused_topics}"
        if assigned - readable:
            assert denied_fetch, f"{agency} fetched {sorted(assigned - readable)} unrefused"


def test_no_agency_may_create_topics_or_change_acls(provisioned, agencies: list[str]) -> None:
    topology = provisioned.topology
    for agency in agencies:
        principal = topology.principal_of(agency)
        admin = KafkaAdminClient(**provisioned.kafka_as(agency).kafka_python_kwargs())
        try:
            with pytest.raises((TopicAuthorizationFailedError, ClusterAuthorizationFailedError)):
                admin.create_topics([f"exchange.rogue.{agency}"])
            acl = ACL(
                principal=f"User:{principal}",
                host="*",
                operation=ACLOperation.ALL,
                permission_type=ACLPermissionType.ALLOW,
                resource_pattern=ResourcePattern(AdminResourceType.TOPIC, "*"),
            )
            with pytest.raises(ClusterAuthorizationFailedError):
                create_acls(admin, acl)
        finally:
            admin.close()
    log_text = authorizer_log(provisioned)
    for agency in agencies:
        logged = denied_resources(log_text, topology.principal_of(agency))
        assert logged & {f"Topic:exchange.rogue.{agency}", "Cluster:kafka-cluster"}, agency


def failed_authentications(provisioned) -> int:
    cluster = provisioned.broker.cluster
    assert cluster is not None
    text = "".join(
        (Path(node.log_dir) / "server.log").read_text(encoding="utf-8", errors="replace")
        for node in cluster.nodes
    )
    return text.count("Failed authentication with")


def logged_after(provisioned, before: int) -> bool:
    deadline = time.monotonic() + TIMEOUT_S
    while failed_authentications(provisioned) == before and time.monotonic() < deadline:
        time.sleep(0.2)
    return failed_authentications(provisioned) > before


async def connect(settings: KafkaSettings) -> None:
    client = AIOKafkaClient(**settings.aiokafka_kwargs())
    try:
        await asyncio.wait_for(client.bootstrap(), TIMEOUT_S)
    finally:
        await client.close()


@pytest.mark.parametrize("who", ["wrong-password", "unknown-user"])
async def test_bad_credentials_cannot_connect(provisioned, who: str) -> None:
    bootstrap = provisioned.broker.bootstrap
    principal = provisioned.topology.principal_of("police")
    user = principal if who == "wrong-password" else "agency.nobody"
    settings = provisioned.broker.admin.model_copy(
        update={"bootstrap_servers": bootstrap}
    ).with_principal(user, "not-the-password")
    before = failed_authentications(provisioned)
    with pytest.raises(AioKafkaError) as refused:
        await connect(settings)
    assert "bootstrap" in str(refused.value).lower()
    assert logged_after(provisioned, before), "server.log records no failed login"
