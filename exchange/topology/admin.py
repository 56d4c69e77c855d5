"""I/O with a live cluster for the topology: read the actual state, execute plan steps.

A thin wrapper over kafka-python's ``KafkaAdminClient``; no decisions are made here (that is
:mod:`exchange.topology.planner`). Use it as a context manager so the client is closed::

    with ClusterAdmin(settings) as admin:
        state = admin.read_state([t.name for t in topology.topics], topology.principals)
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from exchange.settings import KafkaSettings
from exchange.tls.kafka import kafka_python_client
from exchange.topology.acl import AclBinding, kafka_principal
from exchange.topology.state import ActualState, TopicState

with warnings.catch_warnings():
    # kafka-python 3.0.12 loads its protocol schemas at import time with
    # importlib.resources.read_text/open_text, deprecated since Python 3.11 (harmless). Silence
    # exactly that, here, so that importing the bus never trips `-W error`.
    warnings.filterwarnings(
        "ignore", r".* is deprecated\. Use files\(\) instead", DeprecationWarning
    )
    from kafka.admin import (
        ACL,
        ACLFilter,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ConfigResource,
        ConfigResourceType,
        KafkaAdminClient,
        ResourcePattern,
        ResourcePatternFilter,
        ResourceType,
        ScramMechanism,
        UserScramCredentialUpsertion,
    )
    from kafka.errors import KafkaError

__all__ = ["ClusterAdmin", "KafkaError"]

MANAGED_CONFIGS = ("cleanup.policy", "retention.ms", "min.insync.replicas")
TOPIC_READY_TIMEOUT_MS = 30_000
ACL_PROPAGATION_TIMEOUT_S = 15.0


class ClusterAdmin:
    """Administration of one cluster, as the principal named by ``settings`` (a super user or
    one with ALTER on the cluster)."""

    def __init__(self, settings: KafkaSettings) -> None:
        self._client: Any = kafka_python_client(KafkaAdminClient, settings)

    def __enter__(self) -> ClusterAdmin:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ read

    def read_state(self, topics: Iterable[str], principals: Iterable[str]) -> ActualState:
        """The named topics that exist, every SCRAM user, and the ACLs of ``principals``."""
        return ActualState(
            topics=self.read_topics(topics),
            users=self.read_users(),
            acls=self.read_acls(principals),
        )

    def read_topics(self, names: Iterable[str]) -> dict[str, TopicState]:
        wanted = set(names)
        existing = sorted(wanted & set(self._client.list_topics()))
        if not existing:
            return {}
        described = self._client.describe_topics(existing)
        resources = [
            ConfigResource(ConfigResourceType.TOPIC, name, list(MANAGED_CONFIGS))
            for name in existing
        ]
        configs = self._client.describe_configs(resources, config_filter="all")["topic"]
        states = {}
        for topic in described:
            partitions = topic["partitions"]
            replication = max((len(p["replica_nodes"]) for p in partitions), default=0)
            values = {key: entry["value"] for key, entry in configs[topic["name"]].items()}
            states[topic["name"]] = TopicState(topic["name"], len(partitions), replication, values)
        return states

    def read_users(self) -> dict[str, frozenset[str]]:
        """SCRAM users and their mechanisms, e.g. ``{"agency.police": {"SCRAM-SHA-512"}}``."""
        described = self._client.describe_user_scram_credentials()
        return {
            user: frozenset(
                info["mechanism"].name.replace("_", "-") for info in entry["credential_infos"]
            )
            for user, entry in described.items()
        }

    def read_acls(self, principals: Iterable[str]) -> frozenset[AclBinding]:
        """ACLs whose principal is ``User:<p>`` for one of ``principals``."""
        wanted = {kafka_principal(p) for p in principals}
        everything = ACLFilter(
            principal=None,
            host=None,
            operation=ACLOperation.ANY,
            permission_type=ACLPermissionType.ANY,
            resource_pattern=ResourcePatternFilter(
                ResourceType.ANY, None, ACLResourcePatternType.ANY
            ),
        )
        acls, _ = self._client.describe_acls(everything)
        return frozenset(_from_kafka(acl) for acl in acls if acl.principal in wanted)

    # ------------------------------------------------------------------ write

    def create_topic(
        self, name: str, partitions: int, replication_factor: int, configs: Mapping[str, str]
    ) -> None:
        """Create the topic and wait until every partition has a leader."""
        spec = {
            "num_partitions": partitions,
            "replication_factor": replication_factor,
            "configs": dict(configs),
        }
        self._client.create_topics({name: spec})
        self._client.wait_for_topics([name], timeout_ms=TOPIC_READY_TIMEOUT_MS)

    def add_partitions(self, name: str, total: int) -> None:
        self._client.create_partitions({name: total})

    def set_topic_configs(self, name: str, configs: Mapping[str, str]) -> None:
        """Set the given keys (incrementally: other keys keep their values)."""
        resource = ConfigResource(ConfigResourceType.TOPIC, name, dict(configs))
        result = self._client.alter_configs([resource], incremental=True)
        outcome = result.get("topic", {}).get(name, "OK")
        if outcome != "OK":
            raise RuntimeError(outcome)

    def upsert_scram_user(self, user: str, password: str, mechanism: str) -> None:
        upsert = UserScramCredentialUpsertion(
            user, ScramMechanism[mechanism.replace("-", "_")], password
        )
        errors = self._client.alter_user_scram_credentials([upsert])
        if errors.get(user):
            raise RuntimeError(errors[user])

    def create_acls(self, bindings: Iterable[AclBinding]) -> None:
        acls = [_to_kafka(binding) for binding in bindings]
        if not acls:
            return
        result = self._client.create_acls(acls)
        if result["failed"]:
            raise RuntimeError(f"{len(result['failed'])} ACLs refused: {result['failed']}")
        self._await_acls(set(bindings), present=True)

    def delete_acls(self, bindings: Iterable[AclBinding]) -> None:
        """Delete exactly these ACLs (each filter matches one binding only)."""
        filters = [_to_kafka(binding) for binding in bindings]
        if not filters:
            return
        for _, _, error in self._client.delete_acls(filters):
            if error.errno != 0:
                raise RuntimeError(f"ACL delete refused: {error.__name__}")
        self._await_acls(set(bindings), present=False)

    def _await_acls(self, bindings: set[AclBinding], *, present: bool) -> None:
        """Wait until the brokers' metadata shows the change (KRaft propagates it after the
        controller commits), so that a plan made right after an apply sees it."""
        principals = {b.principal.removeprefix("User:") for b in bindings}
        deadline = time.monotonic() + ACL_PROPAGATION_TIMEOUT_S
        while True:
            seen = self.read_acls(principals) & bindings
            if (seen == bindings) if present else not seen:
                return
            if time.monotonic() > deadline:
                state = "visible" if present else "gone"
                raise RuntimeError(
                    f"ACL changes not {state} after {ACL_PROPAGATION_TIMEOUT_S}s: "
                    + ", ".join(b.render() for b in sorted(bindings ^ seen if present else seen))
                )
            time.sleep(0.1)


def _to_kafka(binding: AclBinding) -> ACL:
    return ACL(
        principal=binding.principal,
        host=binding.host,
        operation=ACLOperation[binding.operation],
        permission_type=ACLPermissionType[binding.permission],
        resource_pattern=ResourcePattern(
            ResourceType[binding.resource_type],
            binding.resource_name,
            ACLResourcePatternType[binding.pattern_type],
        ),
    )


def _from_kafka(acl: ACL) -> AclBinding:
    pattern = acl.resource_pattern
    return AclBinding(
        principal=acl.principal,
        resource_type=pattern.resource_type.name,
        resource_name=pattern.resource_name,
        pattern_type=pattern.pattern_type.name,
        operation=acl.operation.name,
        permission=acl.permission_type.name,
        host=acl.host,
    )
