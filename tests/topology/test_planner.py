"""The planner against hand-built cluster states, and the ACLs it derives."""

from __future__ import annotations

import pytest

from exchange.topology import (
    AclBinding,
    ActualState,
    AddPartitions,
    AlterTopicConfig,
    ApplyResult,
    CannotApply,
    CreateAcl,
    CreateTopic,
    CreateUser,
    DeleteAcl,
    ExtraUser,
    Plan,
    TopicState,
    Topology,
    acls_for,
    desired_acls,
    load_topology,
    plan,
)

SCRAM = frozenset({"SCRAM-SHA-512"})


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology()


def _matching(topology: Topology, cap: int = 1) -> ActualState:
    """The state a cluster would be in right after a successful apply."""
    topics = {
        t.name: TopicState(t.name, t.partitions, t.effective_replication(cap), t.kafka_configs(cap))
        for t in topology.topics
    }
    users = dict.fromkeys(topology.principals, SCRAM) | {"admin": SCRAM}
    return ActualState(topics=topics, users=users, acls=desired_acls(topology))


def test_empty_cluster_gets_everything(topology: Topology) -> None:
    result = plan(topology, ActualState(), replication_cap=1)
    users = [a for a in result.actions if isinstance(a, CreateUser)]
    topics = [a for a in result.actions if isinstance(a, CreateTopic)]
    assert {u.principal for u in users} == set(topology.principals)
    assert len(topics) == len(topology.topics)
    rescue = next(t for t in topics if t.name == "exchange.rescue")
    assert (rescue.partitions, rescue.replication_factor) == (3, 1)
    assert rescue.configs["min.insync.replicas"] == "1"
    first_acl = next(i for i, a in enumerate(result.actions) if isinstance(a, CreateAcl))
    assert all(isinstance(a, CreateAcl) for a in result.actions[first_acl:])
    assert first_acl > max(result.actions.index(t) for t in topics)


def test_without_cap_uses_topology_replication(topology: Topology) -> None:
    result = plan(topology, ActualState())
    rescue = next(
        a for a in result.actions if isinstance(a, CreateTopic) and a.name == "exchange.rescue"
    )
    assert (rescue.replication_factor, rescue.configs["min.insync.replicas"]) == (3, "2")


def test_matching_cluster_gives_empty_plan(topology: Topology) -> None:
    result = plan(topology, _matching(topology), replication_cap=1)
    assert result.is_empty
    assert result.notices == [ExtraUser("admin")]
    assert "No changes" in result.render()


def test_changed_config_and_more_partitions(topology: Topology) -> None:
    state = _matching(topology)
    topics = dict(state.topics)
    topics["exchange.rescue"] = TopicState(
        "exchange.rescue", 2, 1, {**topics["exchange.rescue"].configs, "retention.ms": "1000"}
    )
    result = plan(topology, ActualState(topics, state.users, state.acls), replication_cap=1)
    assert result.actions == [
        AddPartitions("exchange.rescue", 2, 3),
        AlterTopicConfig("exchange.rescue", {"retention.ms": ("1000", "2592000000")}),
    ]
    assert "~ topic exchange.rescue: retention.ms 1000 -> 2592000000" in result.render()


def test_partition_decrease_and_replication_change_need_an_operator(
    topology: Topology,
) -> None:
    state = _matching(topology)
    topics = dict(state.topics)
    old = topics["exchange.sighting"]
    topics["exchange.sighting"] = TopicState(old.name, 6, 2, old.configs)
    result = plan(topology, ActualState(topics, state.users, state.acls), replication_cap=1)
    assert len(result.blocked) == 2
    assert all(isinstance(a, CannotApply) for a in result.actions)
    text = result.render()
    assert "Kafka cannot remove partitions" in text
    assert "kafka-reassign-partitions" in text
    assert "2 that need an operator" in text


def test_extra_acl_of_managed_principal_is_deleted_others_untouched(
    topology: Topology,
) -> None:
    state = _matching(topology)
    extra = AclBinding("User:agency.health", "TOPIC", "exchange.sighting", "LITERAL", "READ")
    foreign = AclBinding("User:someone-else", "TOPIC", "exchange.rescue", "LITERAL", "READ")
    acls = state.acls | {extra, foreign}
    result = plan(topology, ActualState(state.topics, state.users, acls), replication_cap=1)
    assert result.actions == [DeleteAcl(extra)]
    assert result.render().splitlines()[0] == (
        "- acl User:agency.health ALLOW READ on topic exchange.sighting"
    )


def test_missing_acl_and_user_are_created(topology: Topology) -> None:
    state = _matching(topology)
    users = {u: m for u, m in state.users.items() if u != "agency.justice"}
    missing = AclBinding("User:agency.justice", "GROUP", "justice.", "PREFIXED", "READ")
    result = plan(
        topology, ActualState(state.topics, users, state.acls - {missing}), replication_cap=1
    )
    assert result.actions == [CreateUser("agency.justice"), CreateAcl(missing)]
    assert result.render().splitlines() == [
        "+ user agency.justice (SCRAM-SHA-512)",
        "+ acl User:agency.justice ALLOW READ on group justice. (prefixed)",
        "? user admin exists but is not in the topology (left alone)",
        "Plan: 2 to add, 0 to change, 0 to remove.",
    ]


def test_render_of_new_topic() -> None:
    assert CreateTopic(
        "exchange.rescue",
        3,
        1,
        {"retention.ms": "2592000000", "cleanup.policy": "delete", "min.insync.replicas": "1"},
    ).render() == (
        "+ topic exchange.rescue (3 partitions, rf 1, retention 30d, delete, min.insync 1)"
    )


def test_least_privilege_acls(topology: Topology) -> None:
    health = acls_for(topology, "health")
    assert {(a.resource_type, a.resource_name, a.operation) for a in health} == {
        ("TOPIC", "exchange.rescue", "READ"),
        ("TOPIC", "exchange.rescue", "DESCRIBE"),
        ("TOPIC", "exchange.referral.to.health", "READ"),
        ("TOPIC", "exchange.referral.to.health", "DESCRIBE"),
        ("TOPIC", "exchange.compliance.to.health", "READ"),
        ("TOPIC", "exchange.compliance.to.health", "DESCRIBE"),
        ("TOPIC", "exchange.referral-update", "WRITE"),
        ("TOPIC", "exchange.referral-update", "DESCRIBE"),
        ("TOPIC", "exchange.report-confirmation", "WRITE"),
        ("TOPIC", "exchange.report-confirmation", "DESCRIBE"),
        ("TOPIC", "exchange.unknown-origin-child", "WRITE"),  # a child of unknown origin
        ("TOPIC", "exchange.unknown-origin-child", "DESCRIBE"),
        ("TOPIC", "exchange.keys", "READ"),  # every agency learns every key from the bus
        ("TOPIC", "exchange.keys", "DESCRIBE"),
        ("TOPIC", "exchange.key-request.health", "WRITE"),  # and asks for its own alone
        ("TOPIC", "exchange.key-request.health", "DESCRIBE"),
        ("GROUP", "health.", "READ"),
        ("TRANSACTIONAL_ID", "health.", "WRITE"),
        ("TRANSACTIONAL_ID", "health.", "DESCRIBE"),
        ("TOPIC", "exchange.deadletter.health", "WRITE"),
        ("TOPIC", "exchange.deadletter.health", "DESCRIBE"),
        ("TOPIC", "exchange.quarantine.health", "WRITE"),
        ("TOPIC", "exchange.quarantine.health", "DESCRIBE"),
        ("TOPIC", "exchange.audit", "WRITE"),
        ("TOPIC", "exchange.audit", "DESCRIBE"),
        ("TOPIC", "exchange.notary", "READ"),  # the fail-closed guard watches the anchors
        ("TOPIC", "exchange.notary", "DESCRIBE"),
        *(
            ("TOPIC", f"exchange.referral.to.{a.id}", op)
            for a in topology.agencies
            if a.kind == "agency"
            for op in ("WRITE", "DESCRIBE")
        ),
    }
    everything = desired_acls(topology)
    assert all(a.permission == "ALLOW" for a in everything)
    operators = acls_for(topology, "operators")
    # The one cluster-level right: the operators' DESCRIBE (lag monitor, doctor); with DESCRIBE
    # and DESCRIBE_CONFIGS on every topic and DESCRIBE on every group, none of which reads a record.
    observing = {(a.resource_type, a.resource_name, a.operation) for a in operators
                 if a.resource_name in ("kafka-cluster", "*")}
    assert observing == {("CLUSTER", "kafka-cluster", "DESCRIBE"), ("TOPIC", "*", "DESCRIBE"),
                         ("TOPIC", "*", "DESCRIBE_CONFIGS"), ("GROUP", "*", "DESCRIBE")}
    assert [a for a in everything if a.resource_type == "CLUSTER"] == [
        a for a in operators if a.resource_type == "CLUSTER"
    ]
    assert not [a for a in everything - operators if a.resource_name == "*"]
    topics = {a.resource_name for a in everything if a.resource_type == "TOPIC"}
    prefixed = {a.resource_name for a in everything if a.pattern_type == "PREFIXED"}
    assert topics - prefixed - {"*"} <= {t.name for t in topology.topics}
    assert {a.operation for a in operators} == {"READ", "DESCRIBE", "DESCRIBE_CONFIGS"}
    assert {a.resource_name for a in operators
            if a.resource_type == "TOPIC" and a.operation == "READ"} == {
        t.name for t in topology.topics
        if t.name.startswith(("exchange.deadletter.", "exchange.quarantine."))
    } | {"exchange.audit", "exchange.keys", "exchange.notary"}


def test_cap_must_be_positive(topology: Topology) -> None:
    with pytest.raises(ValueError, match="replication_cap"):
        plan(topology, ActualState(), replication_cap=0)


def test_apply_result_render() -> None:
    blocked = CannotApply("topic t", "has 6 partitions", "Raise it.")
    result = ApplyResult(
        plan=Plan([CreateUser("agency.a"), blocked], [ExtraUser("admin")]),
        applied=[CreateUser("agency.a")],
        not_applied=[blocked],
    )
    assert not result.ok
    assert result.render().splitlines() == [
        "+ user agency.a (SCRAM-SHA-512)",
        "! topic t: has 6 partitions. Raise it.",
        "? user admin exists but is not in the topology (left alone)",
        "Applied 1 changes.",
        "1 differences need an operator (see the '!' lines).",
    ]
    assert ApplyResult(plan=Plan()).render().startswith("No changes")
