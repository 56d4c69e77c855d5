"""Topology as data: agencies, topics and access rights, planned and applied to a cluster.

``load_topology()`` reads ``topology/*.toml`` into a frozen :class:`Topology`;
``plan_against_cluster()`` diffs it with a live cluster; ``apply_topology()`` makes the cluster
match (topics, configs, SCRAM users, ACLs), idempotently.

The cluster I/O (:class:`ClusterAdmin`, ``apply_*``, ``plan_against_cluster``) is imported on
first use, so reading the topology (the rules do) loads no Kafka client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from exchange.topology.acl import AclBinding, acls_for, desired_acls
from exchange.topology.actions import (
    Action,
    AddPartitions,
    AlterTopicConfig,
    CannotApply,
    CreateAcl,
    CreateTopic,
    CreateUser,
    DeleteAcl,
    ExtraUser,
)
from exchange.topology.exceptions import (
    ApplyError,
    TopologyError,
    TopologyFileError,
    UnknownNameError,
)
from exchange.topology.loader import default_topology_dir, load_topology
from exchange.topology.model import Agency, Topic, Topology, Unit
from exchange.topology.planner import Plan, plan
from exchange.topology.state import ActualState, TopicState

if TYPE_CHECKING:
    from exchange.topology.admin import ClusterAdmin
    from exchange.topology.apply import (
        ApplyResult,
        apply_plan,
        apply_topology,
        plan_against_cluster,
    )

_CLUSTER_IO = {
    "ClusterAdmin": "exchange.topology.admin",
    "ApplyResult": "exchange.topology.apply",
    "apply_plan": "exchange.topology.apply",
    "apply_topology": "exchange.topology.apply",
    "plan_against_cluster": "exchange.topology.apply",
}


def __getattr__(name: str) -> Any:
    module = _CLUSTER_IO.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

__all__ = [
    "AclBinding",
    "Action",
    "ActualState",
    "AddPartitions",
    "Agency",
    "AlterTopicConfig",
    "ApplyError",
    "ApplyResult",
    "CannotApply",
    "ClusterAdmin",
    "CreateAcl",
    "CreateTopic",
    "CreateUser",
    "DeleteAcl",
    "ExtraUser",
    "Plan",
    "Topic",
    "TopicState",
    "Topology",
    "TopologyError",
    "TopologyFileError",
    "Unit",
    "UnknownNameError",
    "acls_for",
    "apply_plan",
    "apply_topology",
    "default_topology_dir",
    "desired_acls",
    "load_topology",
    "plan",
    "plan_against_cluster",
]
