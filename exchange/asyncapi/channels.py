"""Channels: one per topic of the topology, with its Kafka bindings (partitions, replicas,
retention, cleanup policy) and the messages it carries."""

from __future__ import annotations

from typing import Any

from exchange.asyncapi.exceptions import AsyncApiError
from exchange.asyncapi.key_messages import (
    KEY_CERTIFICATE,
    KEY_REQUEST,
    KEY_REQUEST_PREFIX,
    KEYS_TOPIC,
)
from exchange.asyncapi.messages import ANCHOR, AUDIT, DEADLETTER, QUARANTINED, message_id
from exchange.asyncapi.servers import KAFKA_BINDING_VERSION
from exchange.evidence.guard import NOTARY_TOPIC
from exchange.protection.audit import AUDIT_TOPIC
from exchange.topology.model import Topic

DEADLETTER_PREFIX = "exchange.deadletter."
QUARANTINE_PREFIX = "exchange.quarantine."


def channel_id(topic: str) -> str:
    """The channel's id in the document: the topic name (Kafka's characters are all allowed)."""
    return topic


#: Topics of records that are not events: (name or prefix, is a prefix, message id).
_RECORD_TOPICS = (
    (DEADLETTER_PREFIX, True, DEADLETTER),
    (QUARANTINE_PREFIX, True, QUARANTINED),
    (AUDIT_TOPIC, False, AUDIT),
    (NOTARY_TOPIC, False, ANCHOR),
    (KEY_REQUEST_PREFIX, True, KEY_REQUEST),
    (KEYS_TOPIC, False, KEY_CERTIFICATE),
)


def message_ids(topic: Topic) -> list[str]:
    """The ids of the messages a topic carries (components/messages)."""
    if topic.event_types:
        return [message_id(event) for event in topic.event_types]
    for name, prefix, message in _RECORD_TOPICS:
        if topic.name.startswith(name) if prefix else topic.name == name:
            return [message]
    raise AsyncApiError(
        f"topic {topic.name!r} carries no event type and is no dead-letter, quarantine, audit, "
        "notary or key topic; name its event_types in topology/topics.toml"
    )


def _retention(ms: int) -> str:
    if ms < 0:
        return "kept forever"
    days, rest = divmod(ms, 86_400_000)
    return f"{days} d" if rest == 0 else f"{ms} ms"


def channel(topic: Topic) -> dict[str, Any]:
    """The channel object of a topic."""
    readers = ", ".join(topic.readers)
    writers = ", ".join(topic.writers)
    policy = "compacted (latest per key), " if topic.cleanup_policy == "compact" else ""
    return {
        "address": topic.name,
        "title": topic.name,
        "summary": topic.purpose,
        "description": (
            f"{topic.purpose}\n\nOwner: {topic.owner}. Written by: {writers}. Read by: "
            f"{readers}. {topic.partitions} partitions, {policy}{_retention(topic.retention_ms)}."
        ),
        "messages": {
            mid: {"$ref": f"#/components/messages/{mid}"} for mid in message_ids(topic)
        },
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "replicas": topic.replication_factor,
                "topicConfiguration": {
                    "cleanup.policy": [topic.cleanup_policy],
                    "retention.ms": topic.retention_ms,
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
