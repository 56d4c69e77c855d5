"""Diff the desired topology against the actual cluster state into a :class:`Plan`.

Pure: no I/O. The planner only ever touches what the topology manages: its topics, its
principals' SCRAM users and its principals' ACLs. Users and ACLs of other principals are never
changed; users unknown to the topology are reported (:class:`ExtraUser`), not deleted.
Kafka cannot remove partitions nor change replication with a config, so such differences
become :class:`CannotApply` steps that say what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exchange.topology.acl import desired_acls, kafka_principal
from exchange.topology.actions import (
    SCRAM_MECHANISM,
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
from exchange.topology.model import Topic, Topology
from exchange.topology.state import ActualState, TopicState


@dataclass(frozen=True)
class Plan:
    """Ordered steps: users, topics, ACLs to add, then ACLs to remove (so that a replaced
    right is never missing in between). ``notices`` are report-only."""

    actions: list[Action] = field(default_factory=list)
    notices: list[ExtraUser] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """True when the cluster already matches the topology (notices do not count)."""
        return not self.actions

    @property
    def blocked(self) -> list[CannotApply]:
        return [a for a in self.actions if isinstance(a, CannotApply)]

    def render(self) -> str:
        """A terraform-like listing ending with a one-line summary."""
        lines = [action.render() for action in self.actions]
        lines += [notice.render() for notice in self.notices]
        adds = sum(isinstance(a, CreateUser | CreateTopic | CreateAcl) for a in self.actions)
        changes = sum(isinstance(a, AddPartitions | AlterTopicConfig) for a in self.actions)
        deletes = sum(isinstance(a, DeleteAcl) for a in self.actions)
        if self.is_empty:
            lines.append("No changes: the cluster matches the topology.")
        else:
            summary = f"Plan: {adds} to add, {changes} to change, {deletes} to remove"
            if self.blocked:
                summary += f", {len(self.blocked)} that need an operator"
            lines.append(summary + ".")
        return "\n".join(lines)


def plan(
    desired: Topology,
    actual: ActualState,
    *,
    replication_cap: int | None = None,
    provisioner: str | None = None,
) -> Plan:
    """What to do so that the cluster described by ``actual`` matches ``desired``.

    ``replication_cap`` lowers every topic's replication factor (and min.insync.replicas) to
    at most that many, e.g. ``1`` for a single local broker. ``provisioner`` is the principal
    doing the provisioning (e.g. ``admin``): expected on the cluster, so not reported as extra.
    """
    if replication_cap is not None and replication_cap < 1:
        raise ValueError(f"replication_cap must be >= 1, got {replication_cap}")
    actions: list[Action] = []
    managed = set(desired.principals)
    for principal in desired.principals:
        if SCRAM_MECHANISM not in actual.users.get(principal, frozenset()):
            actions.append(CreateUser(principal))
    for topic in desired.topics:
        actions.extend(_topic_actions(topic, actual.topics.get(topic.name), replication_cap))
    want = desired_acls(desired)
    managed_principals = {kafka_principal(p) for p in managed}
    have = {acl for acl in actual.acls if acl.principal in managed_principals}
    actions.extend(CreateAcl(acl) for acl in sorted(want - have))
    actions.extend(DeleteAcl(acl) for acl in sorted(have - want))
    notices = [
        ExtraUser(user) for user in sorted(actual.users)
        if user not in managed and user != provisioner
    ]
    return Plan(actions=actions, notices=notices)


def _topic_actions(
    topic: Topic, actual: TopicState | None, replication_cap: int | None
) -> list[Action]:
    rf = topic.effective_replication(replication_cap)
    configs = topic.kafka_configs(replication_cap)
    if actual is None:
        return [CreateTopic(topic.name, topic.partitions, rf, configs)]
    actions: list[Action] = []
    if actual.partitions < topic.partitions:
        actions.append(AddPartitions(topic.name, actual.partitions, topic.partitions))
    elif actual.partitions > topic.partitions:
        actions.append(
            CannotApply(
                f"topic {topic.name}",
                f"has {actual.partitions} partitions, the topology says {topic.partitions}; "
                "Kafka cannot remove partitions",
                "Either raise `partitions` in topics.toml to match, or drain the topic, delete "
                "it and apply again (keys will map to other partitions).",
            )
        )
    if actual.replication_factor != rf:
        actions.append(
            CannotApply(
                f"topic {topic.name}",
                f"has replication factor {actual.replication_factor}, the topology wants {rf}",
                "Change it with kafka-reassign-partitions (a reassignment listing the new "
                "replicas), or apply with a --replication cap that matches the cluster.",
            )
        )
    changes = {
        key: (actual.configs.get(key), value)
        for key, value in configs.items()
        if actual.configs.get(key) != value
    }
    if changes:
        actions.append(AlterTopicConfig(topic.name, changes))
    return actions
