"""Where an AsyncAPI document and the topology or the schema catalogue disagree.

Checked independently of how the document was built: every topic the agency may use (the whole
topology for the bus) is a channel with the topic's address, partitions, replicas, retention and
cleanup policy; every operation is a topic ACL the broker enforces and every such ACL is an
operation; every event message carries the latest published Avro schema of its type.
"""

from __future__ import annotations

from typing import Any

from exchange.asyncapi.messages import AVRO_FORMAT, message_id
from exchange.asyncapi.operations import granted, operation_id
from exchange.schemas.catalogue import Catalogue
from exchange.topology.model import Topic, Topology


def _channel_problems(name: str, channel: dict[str, Any], topic: Topic) -> list[str]:
    problems = []
    kafka = channel.get("bindings", {}).get("kafka", {})
    config = kafka.get("topicConfiguration", {})
    expected = {
        "address": (channel.get("address"), topic.name),
        "partitions": (kafka.get("partitions"), topic.partitions),
        "replicas": (kafka.get("replicas"), topic.replication_factor),
        "retention.ms": (config.get("retention.ms"), topic.retention_ms),
        "cleanup.policy": (config.get("cleanup.policy"), [topic.cleanup_policy]),
    }
    for what, (got, want) in expected.items():
        if got != want:
            problems.append(f"channel {name}: {what} is {got!r}, topology says {want!r}")
    carried = set(channel.get("messages", {}))
    for event in topic.event_types:
        if message_id(event) not in carried:
            problems.append(f"channel {name}: does not carry {event}")
    return problems


def _message_problems(mid: str, message: dict[str, Any], catalogue: Catalogue) -> list[str]:
    fullname = next((t for t in catalogue.published_event_types if message_id(t) == mid), None)
    if fullname is None:
        return []  # not an event (dead letters, audit)
    payload = message.get("payload", {})
    problems = []
    if payload.get("schemaFormat") != AVRO_FORMAT:
        problems.append(f"message {mid}: schemaFormat is not {AVRO_FORMAT}")
    latest = catalogue.latest(fullname)
    if payload.get("schema") != latest.schema:
        problems.append(f"message {mid}: payload is not the published schema {latest.label}")
    ce_type = message.get("headers", {}).get("properties", {}).get("ce_type", {}).get("const")
    if ce_type != fullname:
        problems.append(f"message {mid}: ce_type header is {ce_type!r}, not {fullname!r}")
    return problems


def disagreements(
    document: dict[str, Any], topology: Topology, catalogue: Catalogue, agency: str | None = None
) -> list[str]:
    """Every disagreement, one line each; empty when the document matches."""
    agencies = [a.id for a in topology.agencies] if agency is None else [agency]
    if agency is None:
        topics = {t.name: t for t in topology.topics}
    else:
        topics = {name: topology.topic(name) for _, name in granted(topology, agency)}
    channels: dict[str, Any] = document.get("channels", {})
    problems = [f"topic {name}: no channel" for name in sorted(set(topics) - set(channels))]
    problems += [f"channel {name}: no such topic" for name in sorted(set(channels) - set(topics))]
    for name in sorted(set(topics) & set(channels)):
        problems += _channel_problems(name, channels[name], topics[name])
    allowed = {
        operation_id(a, action, topic): (action, topic)
        for a in agencies
        for action, topic in granted(topology, a)
    }
    operations: dict[str, Any] = document.get("operations", {})
    for op in sorted(set(allowed) - set(operations)):
        problems.append(f"operation {op}: the ACLs allow it, the document omits it")
    for op in sorted(set(operations) - set(allowed)):
        problems.append(f"operation {op}: the broker's ACLs do not allow it")
    for op in sorted(set(allowed) & set(operations)):
        action, topic = allowed[op]
        given = operations[op]
        if given.get("action") != action or given.get("channel") != {"$ref": f"#/channels/{topic}"}:
            problems.append(f"operation {op}: not a {action} on channel {topic}")
    messages: dict[str, Any] = document.get("components", {}).get("messages", {})
    for mid in sorted(messages):
        problems += _message_problems(mid, messages[mid], catalogue)
    return problems
