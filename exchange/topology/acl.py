"""The ACLs a topology implies, least privilege, as plain values (no Kafka client here).

For every principal of the topology:

* writers of a topic: WRITE + DESCRIBE on it (LITERAL). Idempotent producers need no
  cluster right: since Kafka 3.0 WRITE on a topic implies IdempotentWrite;
* readers of a topic: READ + DESCRIBE on it (LITERAL);
* a principal that reads anything: READ on groups PREFIXED ``<agency-id>.``;
* a principal that writes anything: WRITE + DESCRIBE on transactional ids PREFIXED
  ``<agency-id>.``;
* a system with ``internal_topics``: CREATE, READ, WRITE, DESCRIBE, DESCRIBE_CONFIGS on topics
  PREFIXED ``<agency-id>.`` (faust changelog and repartition topics).

* a system that ``observes_cluster`` (the operators): DESCRIBE on the cluster, DESCRIBE and
  DESCRIBE_CONFIGS on every topic, DESCRIBE on every group (``*``, LITERAL): metadata, configs,
  offsets, group members and committed offsets, the topology's users and ACLs; never a record.

The dead-letter topic ``exchange.deadletter.<agency-id>`` is an ordinary topic of the topology
(written by that agency, read by ``operators``), so it follows the same rules. No agency gets a
cluster-level right but that one DESCRIBE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from exchange.topology.model import Agency, Topology

ResourceKind = Literal["TOPIC", "GROUP", "TRANSACTIONAL_ID", "CLUSTER"]
PatternKind = Literal["LITERAL", "PREFIXED"]


@dataclass(frozen=True, order=True)
class AclBinding:
    """One ACL entry. ``principal`` is the Kafka principal, e.g. ``User:agency.police``."""

    principal: str
    resource_type: ResourceKind
    resource_name: str
    pattern_type: PatternKind
    operation: str
    permission: Literal["ALLOW", "DENY"] = "ALLOW"
    host: str = "*"

    def render(self) -> str:
        pattern = "" if self.pattern_type == "LITERAL" else f" ({self.pattern_type.lower()})"
        host = "" if self.host == "*" else f" from {self.host}"
        return (
            f"{self.principal} {self.permission} {self.operation} on "
            f"{self.resource_type.lower()} {self.resource_name}{pattern}{host}"
        )


def kafka_principal(user: str) -> str:
    return f"User:{user}"


def _grant(
    agency: Agency, kind: ResourceKind, name: str, pattern: PatternKind, *operations: str
) -> set[AclBinding]:
    principal = kafka_principal(agency.principal)
    return {AclBinding(principal, kind, name, pattern, op) for op in operations}


def acls_for(topology: Topology, agency_id: str) -> frozenset[AclBinding]:
    """The ACLs of one agency's principal."""
    agency = topology.agency(agency_id)
    acls: set[AclBinding] = set()
    writes = topology.topics_writable_by(agency_id)
    reads = topology.topics_readable_by(agency_id)
    for topic in writes:
        acls |= _grant(agency, "TOPIC", topic.name, "LITERAL", "WRITE", "DESCRIBE")
    for topic in reads:
        acls |= _grant(agency, "TOPIC", topic.name, "LITERAL", "READ", "DESCRIBE")
    if reads or agency.internal_topics:
        acls |= _grant(agency, "GROUP", agency.prefix, "PREFIXED", "READ")
    if writes or agency.internal_topics:
        acls |= _grant(agency, "TRANSACTIONAL_ID", agency.prefix, "PREFIXED", "WRITE", "DESCRIBE")
    if agency.internal_topics:
        acls |= _grant(
            agency,
            "TOPIC",
            agency.prefix,
            "PREFIXED",
            "CREATE",
            "READ",
            "WRITE",
            "DESCRIBE",
            "DESCRIBE_CONFIGS",
        )
    if agency.observes_cluster:
        acls |= _grant(agency, "CLUSTER", "kafka-cluster", "LITERAL", "DESCRIBE")
        acls |= _grant(agency, "TOPIC", "*", "LITERAL", "DESCRIBE", "DESCRIBE_CONFIGS")
        acls |= _grant(agency, "GROUP", "*", "LITERAL", "DESCRIBE")
    return frozenset(acls)


def desired_acls(topology: Topology) -> frozenset[AclBinding]:
    """Every ACL the topology's principals should have, and no other."""
    acls: set[AclBinding] = set()
    for agency in topology.agencies:
        acls |= acls_for(topology, agency.id)
    return frozenset(acls)
