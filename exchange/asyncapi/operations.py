"""Operations: what each agency may send and receive, derived from the ACLs the broker enforces
(:func:`exchange.topology.acl.acls_for`): WRITE on a topic is a ``send``, READ a ``receive``.
Nothing is granted here that the broker would refuse, and nothing the broker allows is left out.
"""

from __future__ import annotations

from typing import Any, Literal

from exchange.asyncapi.channels import channel_id, message_ids
from exchange.asyncapi.servers import KAFKA_BINDING_VERSION
from exchange.topology.acl import acls_for
from exchange.topology.model import Topology

Action = Literal["send", "receive"]
_ACTION_OF: dict[str, Action] = {"WRITE": "send", "READ": "receive"}


def operation_id(agency_id: str, action: Action, topic: str) -> str:
    """``police.send.exchange.rescue``."""
    return f"{agency_id}.{action}.{topic}"


def granted(topology: Topology, agency_id: str) -> list[tuple[Action, str]]:
    """The (action, topic) pairs the agency's topic ACLs allow, sorted."""
    pairs = {
        (_ACTION_OF[acl.operation], acl.resource_name)
        for acl in acls_for(topology, agency_id)
        if acl.resource_type == "TOPIC"
        and acl.pattern_type == "LITERAL"
        and acl.operation in _ACTION_OF
    }
    return sorted(pairs, key=lambda pair: (pair[1], pair[0]))


def operations(topology: Topology, agency_id: str) -> dict[str, Any]:
    """The operations of one agency, keyed by :func:`operation_id`."""
    agency = topology.agency(agency_id)
    out: dict[str, Any] = {}
    for action, name in granted(topology, agency_id):
        topic = topology.topic(name)
        ref = f"#/channels/{channel_id(name)}"
        verb = "publishes to" if action == "send" else "reads"
        operation: dict[str, Any] = {
            "action": action,
            "channel": {"$ref": ref},
            "title": f"{agency.name_en} {verb} {name}",
            "summary": f"{agency.name_zh} ({agency.id}) {verb} {name}: {topic.purpose}",
            "security": [{"$ref": "#/components/securitySchemes/scramSha512"}],
            "messages": [{"$ref": f"{ref}/messages/{mid}"} for mid in message_ids(topic)],
        }
        if action == "receive":
            operation["bindings"] = {
                "kafka": {
                    "groupId": {
                        "type": "string",
                        "pattern": f"^{agency.prefix.replace('.', '[.]')}",
                        "description": f"Consumer groups must start with {agency.prefix!r} "
                        "(the broker's ACL is PREFIXED on it).",
                    },
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            }
        out[operation_id(agency_id, action, name)] = operation
    return out
