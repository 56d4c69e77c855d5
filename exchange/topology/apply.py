"""Execute a plan against a cluster; the two entry points the CLI calls.

``apply_plan`` runs the plan's steps in order and stops at the first one the cluster refuses
(raising :class:`ApplyError`: what was done before stays done; plan again to see the rest).
Steps that need an operator (:class:`CannotApply`) are skipped and returned in
``ApplyResult.not_applied``. Applying is idempotent: right after an apply, a new plan is empty
unless something needs an operator.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from exchange.settings import KafkaSettings
from exchange.topology.actions import (
    Action,
    AddPartitions,
    AlterTopicConfig,
    CannotApply,
    CreateAcl,
    CreateTopic,
    CreateUser,
    DeleteAcl,
)
from exchange.topology.admin import ClusterAdmin, KafkaError
from exchange.topology.exceptions import ApplyError
from exchange.topology.model import Topology
from exchange.topology.planner import Plan, plan


class PasswordSource(Protocol):
    """Gives the password of a principal, creating one if needed (e.g. ``CredentialStore``)."""

    def password_for(self, principal: str) -> str: ...


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    applied: list[Action] = field(default_factory=list)
    not_applied: list[CannotApply] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the cluster now matches the topology."""
        return not self.not_applied

    def render(self, *, detail: bool = True) -> str:
        """What was done (each change, or counts by kind), what was left for an operator, and a
        one-line summary."""
        if detail:
            lines = [action.render() for action in self.applied]
        else:
            kinds = Counter(type(action).__name__ for action in self.applied)
            lines = [f"  {count:>4} x {kind}" for kind, count in sorted(kinds.items())]
        lines += [action.render() for action in self.not_applied]
        lines += [notice.render() for notice in self.plan.notices]
        if not self.applied and not self.not_applied:
            lines.append("No changes: the cluster already matched the topology.")
        else:
            lines.append(f"Applied {len(self.applied)} changes.")
        if self.not_applied:
            lines.append(
                f"{len(self.not_applied)} differences need an operator (see the '!' lines)."
            )
        return "\n".join(lines)


def apply_plan(plan: Plan, admin: ClusterAdmin, credentials: PasswordSource) -> ApplyResult:
    applied: list[Action] = []
    not_applied: list[CannotApply] = []
    acls_to_create = [a for a in plan.actions if isinstance(a, CreateAcl)]
    acls_to_delete = [a for a in plan.actions if isinstance(a, DeleteAcl)]
    for action in plan.actions:
        if isinstance(action, CannotApply):
            not_applied.append(action)
        elif not isinstance(action, CreateAcl | DeleteAcl):
            _run(action, admin, credentials)
            applied.append(action)
    # ACLs in two batches (one request each): additions first, so that no right is missing
    # while an ACL is being replaced.
    for batch in (acls_to_create, acls_to_delete):
        if batch:
            _run_acls(batch, admin)
            applied.extend(batch)
    return ApplyResult(plan=plan, applied=applied, not_applied=not_applied)


def _run(action: Action, admin: ClusterAdmin, credentials: PasswordSource) -> None:
    try:
        if isinstance(action, CreateUser):
            password = credentials.password_for(action.principal)
            admin.upsert_scram_user(action.principal, password, action.mechanism)
        elif isinstance(action, CreateTopic):
            admin.create_topic(
                action.name, action.partitions, action.replication_factor, action.configs
            )
        elif isinstance(action, AddPartitions):
            admin.add_partitions(action.topic, action.desired)
        elif isinstance(action, AlterTopicConfig):
            admin.set_topic_configs(
                action.topic, {key: new for key, (_, new) in action.changes.items()}
            )
    except (KafkaError, RuntimeError, ValueError) as error:
        raise ApplyError(action.render(), error) from error


def _run_acls(batch: list[CreateAcl] | list[DeleteAcl], admin: ClusterAdmin) -> None:
    bindings = [action.binding for action in batch]
    what = f"{len(bindings)} ACL {'additions' if isinstance(batch[0], CreateAcl) else 'removals'}"
    try:
        if isinstance(batch[0], CreateAcl):
            admin.create_acls(bindings)
        else:
            admin.delete_acls(bindings)
    except (KafkaError, RuntimeError) as error:
        raise ApplyError(what, error) from error


def plan_against_cluster(
    topology: Topology, settings: KafkaSettings, replication_cap: int | None = None
) -> Plan:
    """Read the cluster named by ``settings`` and plan what ``apply`` would change."""
    with ClusterAdmin(settings) as admin:
        actual = admin.read_state([t.name for t in topology.topics], topology.principals)
    return plan(
        topology, actual, replication_cap=replication_cap, provisioner=settings.username
    )


def apply_topology(
    topology: Topology,
    settings: KafkaSettings,
    credentials: PasswordSource,
    replication_cap: int | None = None,
) -> ApplyResult:
    """Plan against the cluster and apply the plan, on one admin connection."""
    with ClusterAdmin(settings) as admin:
        actual = admin.read_state([t.name for t in topology.topics], topology.principals)
        return apply_plan(
            plan(
                topology, actual, replication_cap=replication_cap,
                provisioner=settings.username,
            ),
            admin, credentials,
        )
