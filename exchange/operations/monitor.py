"""``exchange monitor``: consumer-group lag for every group, seen from the broker's side.

Each poll asks the cluster (kafka-python's admin client) for the consumer groups, their members
and committed offsets, and every partition's earliest and latest offsets; the lag in records and
in seconds is computed by :mod:`exchange.operations.lag`. The metrics carry kafka-lag-exporter's
names and labels, so its dashboards and alerts work unchanged:
``kafka_consumergroup_group_{offset,lag,lag_seconds}`` per partition,
``kafka_consumergroup_group_{max_lag,max_lag_seconds,sum_lag}`` and
``kafka_consumergroup_group_topic_sum_lag`` per group, ``kafka_partition_{latest,earliest}_offset``
per partition (which also shows dead-letter and quarantine topics growing, whoever writes them),
``kafka_consumergroup_poll_time_ms``, and ``kafka_lag_monitor_poll_errors_total``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kafka import TopicPartition as KafkaTopicPartition
from kafka.admin import KafkaAdminClient, OffsetSpec
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from exchange.operations.lag import GroupLag, Member, OffsetHistory, group_lags
from exchange.settings import KafkaSettings

__all__ = ["LagMonitor", "Snapshot"]

log = logging.getLogger(__name__)
TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class Snapshot:
    """What one poll saw."""

    at: float
    groups: list[GroupLag]
    latest: dict[TopicPartition, int]
    earliest: dict[TopicPartition, int]
    poll_ms: float
    members: dict[str, int] = field(default_factory=dict)


class LagMonitor:
    """Polls the cluster every ``interval_s``; the last snapshot is exported by a collector."""

    def __init__(
        self,
        kafka: KafkaSettings,
        registry: CollectorRegistry,
        *,
        cluster_name: str = "exchange",
        interval_s: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kafka = kafka
        self.cluster_name = cluster_name
        self.interval_s = interval_s
        self.clock = clock
        self.history = OffsetHistory()
        self.snapshot: Snapshot | None = None
        self.last_error: str | None = None
        self._admin: Any = None
        self.errors = Counter(
            "kafka_lag_monitor_poll_errors_total",
            "Polls of the cluster's offsets that failed (broker unreachable, not authorised).",
            registry=registry,
        )
        registry.register(_LagCollector(self))

    # -- polling ------------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._admin is None:
            self._admin = KafkaAdminClient(**self.kafka.kafka_python_kwargs())
        return self._admin

    def poll(self) -> Snapshot:
        started = time.monotonic()
        admin = self._client()
        groups = [g["group_id"] for g in admin.list_groups()]
        committed: dict[str, dict[TopicPartition, int]] = {}
        if groups:
            for group, offsets in admin.list_group_offsets(dict.fromkeys(groups)).items():
                committed[group] = {(tp.topic, tp.partition): o.offset
                                    for tp, o in offsets.items()}  # fmt: skip
        members = _members(admin.describe_groups(groups)) if groups else {}
        partitions = [
            KafkaTopicPartition(t["name"], p["partition_index"])
            for t in admin.describe_topics() for p in t["partitions"]
        ]
        latest = _offsets(admin, partitions, OffsetSpec.LATEST)
        earliest = _offsets(admin, partitions, OffsetSpec.EARLIEST)
        now = self.clock()
        for tp, offset in latest.items():
            self.history.observe(tp, offset, now)
        self.history.forget(set(latest))
        snapshot = Snapshot(
            now, group_lags(committed, latest, self.history, now, members), latest, earliest,
            (time.monotonic() - started) * 1000,
            {group: len(set(by_tp.values())) for group, by_tp in members.items()},
        )
        self.snapshot = snapshot
        return snapshot

    def poll_safely(self) -> Snapshot | None:
        """One poll; a failure is counted and logged, and the connection rebuilt next time."""
        try:
            snapshot = self.poll()
        except Exception as error:  # noqa: BLE001 - any failure of a poll is counted and retried
            self.errors.inc()
            self.last_error = f"{type(error).__name__}: {error}"
            log.warning("lag poll failed: %s", self.last_error)
            self.close()
            return None
        self.last_error = None
        return snapshot

    def run(self, stop: threading.Event, *, also: Callable[[], object] | None = None) -> None:
        """Poll every ``interval_s`` until ``stop``; ``also`` runs after each poll (the
        certificates' refresh, :mod:`exchange.operations.certificates`)."""
        while not stop.is_set():
            self.poll_safely()
            if also is not None:
                also()
            stop.wait(self.interval_s)
        self.close()

    def close(self) -> None:
        if self._admin is not None:
            admin, self._admin = self._admin, None
            try:
                admin.close()
            except Exception:  # closing a broken client must not raise
                log.debug("closing the admin client failed", exc_info=True)

    def not_ready(self) -> str | None:
        """For ``/readyz``: None once a poll succeeded within three intervals."""
        if self.snapshot is None:
            return self.last_error or "no poll has succeeded yet"
        age = self.clock() - self.snapshot.at
        if age > 3 * self.interval_s:
            return f"last successful poll {age:.0f}s ago ({self.last_error or 'no error'})"
        return None


def _offsets(admin: Any, partitions: list[Any], spec: Any) -> dict[TopicPartition, int]:
    if not partitions:
        return {}
    found = admin.list_partition_offsets(dict.fromkeys(partitions, spec))
    return {(tp.topic, tp.partition): o.offset for tp, o in found.items()}


def _members(described: dict[str, Any]) -> dict[str, dict[TopicPartition, Member]]:
    result: dict[str, dict[TopicPartition, Member]] = {}
    for group, info in described.items():
        by_tp: dict[TopicPartition, Member] = {}
        for member in info.get("members") or []:
            who = Member(
                str(member.get("client_host") or "").lstrip("/"),
                str(member.get("member_id") or ""), str(member.get("client_id") or ""),
            )
            assignment = member.get("member_assignment") or {}
            for topic in assignment.get("assigned_partitions") or []:
                for partition in topic["partitions"]:
                    by_tp[(topic["topic"], partition)] = who
        result[group] = by_tp
    return result


PER_PARTITION = ["cluster_name", "group", "topic", "partition", "member_host", "consumer_id",
                 "client_id"]  # fmt: skip
PER_GROUP = ["cluster_name", "group"]
PER_TP = ["cluster_name", "topic", "partition"]
FAMILIES = {
    "offset": ("kafka_consumergroup_group_offset",
               "Committed offset of a group on a partition.", PER_PARTITION),
    "lag": ("kafka_consumergroup_group_lag",
            "Records behind the partition's latest offset.", PER_PARTITION),
    "lag_s": ("kafka_consumergroup_group_lag_seconds",
              "Age of the oldest record the group has not consumed (estimated from the latest "
              "offsets' history).", PER_PARTITION),
    "max_lag": ("kafka_consumergroup_group_max_lag",
                "Largest partition lag of a group (records).", PER_GROUP),
    "max_lag_s": ("kafka_consumergroup_group_max_lag_seconds",
                  "Largest partition lag of a group (seconds).", PER_GROUP),
    "sum_lag": ("kafka_consumergroup_group_sum_lag", "Total lag of a group (records).", PER_GROUP),
    "members": ("kafka_consumergroup_members",
                "Members of a group with partitions assigned (0: nobody consumes).", PER_GROUP),
    "topic_sum": ("kafka_consumergroup_group_topic_sum_lag",
                  "Total lag of a group on a topic (records).", ["cluster_name", "group", "topic"]),
    "latest": ("kafka_partition_latest_offset",
               "Latest offset (high watermark) of a partition.", PER_TP),
    "earliest": ("kafka_partition_earliest_offset", "Earliest offset of a partition.", PER_TP),
    "poll": ("kafka_consumergroup_poll_time_ms", "Time the last poll of the cluster took.",
             ["cluster_name"]),
}  # fmt: skip


class _LagCollector(Collector):
    def __init__(self, monitor: LagMonitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.monitor.snapshot
        if snapshot is None:
            return
        c = self.monitor.cluster_name
        f = {key: GaugeMetricFamily(name, text, labels=labels)
             for key, (name, text, labels) in FAMILIES.items()}  # fmt: skip
        for group in snapshot.groups:
            for p in group.partitions:
                labels = [c, p.group, p.topic, str(p.partition), p.member.host,
                          p.member.consumer_id, p.member.client_id]  # fmt: skip
                f["offset"].add_metric(labels, p.committed)
                f["lag"].add_metric(labels, p.lag)
                f["lag_s"].add_metric(labels, p.lag_seconds)
            f["max_lag"].add_metric([c, group.group], group.max_lag)
            f["max_lag_s"].add_metric([c, group.group], group.max_lag_seconds)
            f["sum_lag"].add_metric([c, group.group], group.sum_lag)
            f["members"].add_metric([c, group.group], snapshot.members.get(group.group, 0))
            for topic, total in sorted(group.topic_sum_lag().items()):
                f["topic_sum"].add_metric([c, group.group, topic], total)
        for (topic, partition), value in sorted(snapshot.latest.items()):
            f["latest"].add_metric([c, topic, str(partition)], value)
        for (topic, partition), value in sorted(snapshot.earliest.items()):
            f["earliest"].add_metric([c, topic, str(partition)], value)
        f["poll"].add_metric([c], snapshot.poll_ms)
        yield from f.values()
