"""The steps of a plan. Each says, in one line, what it does to the cluster (``render``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from exchange.topology.acl import AclBinding

SCRAM_MECHANISM = "SCRAM-SHA-512"


def human_ms(ms: int) -> str:
    """``2592000000`` -> ``30d``; ``-1`` -> ``forever``."""
    if ms < 0:
        return "forever"
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


@dataclass(frozen=True)
class CreateUser:
    principal: str
    mechanism: str = SCRAM_MECHANISM

    def render(self) -> str:
        return f"+ user {self.principal} ({self.mechanism})"


@dataclass(frozen=True)
class CreateTopic:
    name: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str] = field(default_factory=dict, hash=False)

    def render(self) -> str:
        retention = human_ms(int(self.configs.get("retention.ms", "-1")))
        policy = self.configs.get("cleanup.policy", "delete")
        return (
            f"+ topic {self.name} ({self.partitions} partitions, rf {self.replication_factor}, "
            f"retention {retention}, {policy}, "
            f"min.insync {self.configs.get('min.insync.replicas', '?')})"
        )


@dataclass(frozen=True)
class AddPartitions:
    topic: str
    current: int
    desired: int

    def render(self) -> str:
        return f"~ topic {self.topic}: partitions {self.current} -> {self.desired}"


@dataclass(frozen=True)
class AlterTopicConfig:
    """Set ``changes`` (key -> (actual or None, desired)); other configs stay as they are."""

    topic: str
    changes: Mapping[str, tuple[str | None, str]] = field(hash=False)

    def render(self) -> str:
        parts = [f"{key} {old} -> {new}" for key, (old, new) in sorted(self.changes.items())]
        return f"~ topic {self.topic}: " + ", ".join(parts)


@dataclass(frozen=True)
class CreateAcl:
    binding: AclBinding

    def render(self) -> str:
        return f"+ acl {self.binding.render()}"


@dataclass(frozen=True)
class DeleteAcl:
    binding: AclBinding

    def render(self) -> str:
        return f"- acl {self.binding.render()}"


@dataclass(frozen=True)
class CannotApply:
    """A difference that ``apply`` will not fix by itself; ``remedy`` says what to do."""

    subject: str
    problem: str
    remedy: str

    def render(self) -> str:
        return f"! {self.subject}: {self.problem}. {self.remedy}"


@dataclass(frozen=True)
class ExtraUser:
    """Report only: a SCRAM user the topology does not name. Never deleted by ``apply``."""

    principal: str

    def render(self) -> str:
        return f"? user {self.principal} exists but is not in the topology (left alone)"


Action = (
    CreateUser
    | CreateTopic
    | AddPartitions
    | AlterTopicConfig
    | CreateAcl
    | DeleteAcl
    | CannotApply
)
