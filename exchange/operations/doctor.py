"""``exchange doctor``: one look at the whole bus, a verdict per check.

Checks, in order: the cluster (reachable, an active controller, no offline or under-replicated
partition), the topology (``plan`` against the cluster is empty: topics, configs, users, ACLs),
the workflow consumer groups (members with partitions assigned, i.e. workers alive; lag in
records), and the dead-letter and quarantine topics (records written since a time). Each check
is ``ok``, ``warn`` or ``fail``; any ``fail`` makes the verdict (and the exit code) a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from kafka import TopicPartition
from kafka.admin import KafkaAdminClient
from prometheus_client import CollectorRegistry

from exchange.operations.monitor import LagMonitor
from exchange.settings import KafkaSettings
from exchange.topology.apply import plan_against_cluster
from exchange.topology.model import Topology

__all__ = ["Check", "Doctor", "render"]

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


class Doctor:
    def __init__(
        self, kafka: KafkaSettings, topology: Topology, *, since: datetime,
        replication_cap: int | None = None, max_lag: int = 1000, group_prefix: str = "workflows.",
    ) -> None:
        self.kafka, self.topology, self.since = kafka, topology, since
        self.replication_cap, self.max_lag = replication_cap, max_lag
        self.group_prefix = group_prefix

    def run(self) -> list[Check]:
        try:
            admin: Any = KafkaAdminClient(**self.kafka.kafka_python_kwargs())
        except Exception as error:  # noqa: BLE001 - any failure to connect is the verdict
            return [Check("cluster reachable", "fail", f"{type(error).__name__}: {error}")]
        try:
            checks = [self._guard(name, lambda f=f: f(admin)) for name, f in (  # type: ignore[misc]
                ("cluster", self._cluster), ("partitions", self._partitions),
                ("topology plan", self._plan), ("workflow groups", self._groups),
                ("dead letters", self._dead_letters), ("quarantine", self._quarantine),
            )]  # fmt: skip
        finally:
            admin.close()
        return [check for group in checks for check in group]

    @staticmethod
    def _guard(name: str, check: Callable[[], list[Check]]) -> list[Check]:
        try:
            return check()
        except Exception as error:  # noqa: BLE001 - a check that cannot run is a failed check
            return [Check(name, "fail", f"could not check: {type(error).__name__}: {error}")]

    def _cluster(self, admin: Any) -> list[Check]:
        info = admin.describe_cluster()
        brokers = [b for b in info["brokers"] if not b.get("is_fenced")]
        controller = info.get("controller_id", -1)
        return [
            Check("cluster reachable", "ok", f"{len(brokers)} broker(s), cluster "
                  f"{info.get('cluster_id')}"),
            Check("active controller", "ok" if controller not in (None, -1) else "fail",
                  f"node {controller}" if controller not in (None, -1) else "none"),
        ]

    def _partitions(self, admin: Any) -> list[Check]:
        offline, under = [], []
        for topic in admin.describe_topics():
            for p in topic["partitions"]:
                where = f"{topic['name']}[{p['partition_index']}]"
                if p["leader_id"] == -1:
                    offline.append(where)
                elif len(p["isr_nodes"]) < len(p["replica_nodes"]):
                    under.append(where)
        return [
            Check("offline partitions", "fail" if offline else "ok",
                  ", ".join(offline[:5]) or "none"),
            Check("under-replicated partitions", "warn" if under else "ok",
                  ", ".join(under[:5]) or "none"),
        ]

    def _plan(self, admin: Any) -> list[Check]:
        plan = plan_against_cluster(self.topology, self.kafka, self.replication_cap)
        last = plan.render().splitlines()[-1]
        return [Check("topology plan empty", "ok" if plan.is_empty else "fail", last)]

    def _groups(self, admin: Any) -> list[Check]:
        monitor = LagMonitor(self.kafka, CollectorRegistry())
        try:
            snapshot = monitor.poll()
        finally:
            monitor.close()
        groups = [g for g in snapshot.groups if g.group.startswith(self.group_prefix)]
        if not groups:
            return [Check("workers", "fail", f"no consumer group {self.group_prefix}*: "
                          "no worker has ever run")]  # fmt: skip
        checks = []
        for group in groups:
            members = snapshot.members.get(group.group, 0)
            checks.append(Check(
                f"workers of {group.group}", "ok" if members else "fail",
                f"{members} member(s) with partitions assigned" if members
                else "no member: no worker runs for this group",
            ))  # fmt: skip
            checks.append(Check(
                f"lag of {group.group}", "warn" if group.max_lag > self.max_lag else "ok",
                f"{group.sum_lag} record(s) behind in all, {group.max_lag} at most on one "
                "partition",
            ))  # fmt: skip
        return checks

    def _new_records(self, admin: Any, prefix: str) -> dict[str, int]:
        partitions = [
            TopicPartition(t.name, p) for t in self.topology.topics
            if t.name.startswith(prefix) for p in range(t.partitions)
        ]
        if not partitions:
            return {}
        since_ms = int(self.since.timestamp() * 1000)
        at_time = admin.list_partition_offsets(dict.fromkeys(partitions, since_ms))
        latest = admin.list_partition_offsets(dict.fromkeys(partitions, -1))
        counts: dict[str, int] = {}
        for tp in partitions:
            start = at_time[tp].offset
            if start is not None and start >= 0:
                counts[tp.topic] = counts.get(tp.topic, 0) + latest[tp].offset - start
        return {topic: n for topic, n in counts.items() if n > 0}

    def _dead_letters(self, admin: Any) -> list[Check]:
        new = self._new_records(admin, "exchange.deadletter.")
        return [Check("dead letters since " + self.since.isoformat(timespec="minutes"),
                      "warn" if new else "ok", _counts(new))]  # fmt: skip

    def _quarantine(self, admin: Any) -> list[Check]:
        new = self._new_records(admin, "exchange.quarantine.")
        return [Check("quarantined since " + self.since.isoformat(timespec="minutes"),
                      "fail" if new else "ok", _counts(new))]  # fmt: skip


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{t}: {n}" for t, n in sorted(counts.items())) or "none"


def verdict(checks: list[Check]) -> Status:
    statuses = {c.status for c in checks}
    return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "ok"


VERDICTS = {
    "ok": "Verdict: healthy.",
    "warn": "Verdict: working, with warnings.",
    "fail": "Verdict: FAILING (see the FAIL lines and exchange/operations/RUNBOOK.md).",
}


def render(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{c.status.upper():<5} {c.name:<{width}}  {c.detail}" for c in checks]
    lines.append(VERDICTS[verdict(checks)])
    return "\n".join(lines)


def as_json(checks: list[Check]) -> dict[str, Any]:
    return {"verdict": verdict(checks), "checks": [asdict(c) for c in checks]}
