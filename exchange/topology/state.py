"""What a cluster actually holds, as far as the topology manages it (read by
:class:`~exchange.topology.admin.ClusterAdmin`, diffed by :mod:`exchange.topology.planner`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from exchange.topology.acl import AclBinding


@dataclass(frozen=True)
class TopicState:
    """A topic as it exists: partition count, replication, and the configs we manage."""

    name: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ActualState:
    """Topics (only those the topology names), SCRAM users with their mechanisms (all of them),
    and the ACLs of the topology's principals."""

    topics: Mapping[str, TopicState] = field(default_factory=dict)
    users: Mapping[str, frozenset[str]] = field(default_factory=dict)
    acls: frozenset[AclBinding] = frozenset()
