"""The AsyncAPI 3.0 document of the bus (or of one agency), built from the topology and the
schema catalogue: the same data the broker's ACLs and the codec use, so it cannot drift from
them (:mod:`exchange.asyncapi.consistency` checks a document against them anyway)."""

from __future__ import annotations

from typing import Any

from exchange.asyncapi.channels import channel, channel_id, message_ids
from exchange.asyncapi.key_messages import key_messages
from exchange.asyncapi.messages import event_message, record_messages
from exchange.asyncapi.operations import granted, operations
from exchange.asyncapi.servers import SECURITY_SCHEMES, servers
from exchange.models.limits import EVENT_LIMITS, limits_sentence
from exchange.schemas.catalogue import Catalogue
from exchange.topology.model import Topology

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"
BUS_ID = "urn:exchange:xian-anti-trafficking-bus"

_ABOUT = (
    "The inter-agency exchange bus of Xi'an's anti-trafficking joint meeting (反拐联席会议): "
    "agencies publish standardized Avro events to Apache Kafka and read only what is addressed "
    "to them. Record value: Avro single-object encoding; headers: CloudEvents Kafka binding, "
    "binary mode, plus the agency's signature (`exchange.sig`) and the sealed sensitive fields "
    "(`exchange.sealed`); key: the case key. Generated from topology/ and schemas/avro/ by "
    "`exchange asyncapi`."
)
#: The limits a consumer enforces on every record (JSON-only ones are the gateway's business).
BUS_LIMITS = tuple(limit for limit in EVENT_LIMITS if not limit.json_only)


def build_document(
    topology: Topology, catalogue: Catalogue, bootstrap: str, agency: str | None = None
) -> dict[str, Any]:
    """The whole bus, or (``agency``) only the channels and operations that agency may use."""
    agencies = [a.id for a in topology.agencies] if agency is None else [agency]
    if agency is None:
        topics = list(topology.topics)
        title = "Xi'an anti-trafficking exchange bus"
    else:
        who = topology.agency(agency)
        names = {name for _, name in granted(topology, agency)}
        topics = [t for t in topology.topics if t.name in names]
        title = f"Xi'an anti-trafficking exchange bus: {who.name_en} ({who.name_zh})"
    ops: dict[str, Any] = {}
    for agency_id in agencies:
        ops.update(operations(topology, agency_id))
    used = sorted({mid for topic in topics for mid in message_ids(topic)})
    events = {event.rpartition(".")[2]: event for topic in topics for event in topic.event_types}
    records = {**record_messages(), **key_messages()}
    messages = {
        mid: event_message(catalogue, events[mid]) if mid in events else records[mid]
        for mid in used
    }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": BUS_ID if agency is None else f"{BUS_ID}:{agency}",
        "info": {
            "title": title,
            "version": DOCUMENT_VERSION,
            "description": f"{_ABOUT} {limits_sentence(BUS_LIMITS)} A record that breaks "
            "them is dead-lettered by its consumer with reason `invalid-event`.",
            "license": {"name": "Apache-2.0"},
            "x-limits": [limit.as_json() for limit in BUS_LIMITS],
        },
        "defaultContentType": "application/avro",
        "servers": servers(bootstrap),
        "channels": {channel_id(t.name): channel(t) for t in topics},
        "operations": ops,
        "components": {"messages": messages, "securitySchemes": SECURITY_SCHEMES},
    }
