"""Consumer-group lag in records and in seconds, from offsets alone (no Kafka here).

Lag in records is a partition's latest offset minus the group's committed offset. Lag in
seconds follows kafka-lag-exporter: each poll records when the partition's latest offset was
first seen (a small table per partition); the time at which the group's committed offset was
the latest one is interpolated in that table, and the lag is *now* minus that time. It needs no
read access to the records, only their offsets. A committed offset older than the table's
first point gets the age of that point: a lower bound, which grows while the group stays stuck.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field

__all__ = ["GroupLag", "Member", "OffsetHistory", "PartitionLag", "group_lags"]

TopicPartition = tuple[str, int]


class OffsetHistory:
    """Per partition, (latest offset, first time seen) points, oldest first, at most ``size``."""

    def __init__(self, size: int = 120) -> None:
        self.size = size
        self._points: dict[TopicPartition, list[tuple[int, float]]] = defaultdict(list)

    def observe(self, tp: TopicPartition, latest: int, at: float) -> None:
        points = self._points[tp]
        if points and latest < points[-1][0]:
            points.clear()  # the topic was recreated: its old offsets mean nothing now
        if points and latest == points[-1][0]:
            return  # unchanged: keep the first time it was seen
        points.append((latest, at))
        if len(points) > self.size:
            del points[: len(points) - self.size]

    def forget(self, keep: set[TopicPartition]) -> None:
        for tp in set(self._points) - keep:
            del self._points[tp]

    def produced_at(self, tp: TopicPartition, offset: int) -> float | None:
        """When the record at ``offset`` was (about) written; None if the table is empty."""
        points = self._points.get(tp)
        if not points:
            return None
        offsets = [o for o, _ in points]
        # The first point whose latest offset passed `offset`: the record was written between
        # the point before it and this one.
        i = bisect.bisect_right(offsets, offset)
        if i == 0:
            return points[0][1]
        if i == len(points):
            return points[-1][1]
        (o1, t1), (o2, t2) = points[i - 1], points[i]
        return t1 + (offset - o1) / (o2 - o1) * (t2 - t1)

    def lag_seconds(self, tp: TopicPartition, committed: int, latest: int, now: float) -> float:
        if committed >= latest:
            return 0.0
        at = self.produced_at(tp, committed)
        return 0.0 if at is None else max(0.0, now - at)


@dataclass(frozen=True)
class Member:
    """The group member a partition is assigned to (empty when nobody is)."""

    host: str = ""
    consumer_id: str = ""
    client_id: str = ""


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    latest: int
    lag: int
    lag_seconds: float
    member: Member = Member()


@dataclass
class GroupLag:
    group: str
    partitions: list[PartitionLag] = field(default_factory=list)

    @property
    def max_lag(self) -> int:
        return max((p.lag for p in self.partitions), default=0)

    @property
    def max_lag_seconds(self) -> float:
        return max((p.lag_seconds for p in self.partitions), default=0.0)

    @property
    def sum_lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    def topic_sum_lag(self) -> dict[str, int]:
        sums: dict[str, int] = defaultdict(int)
        for p in self.partitions:
            sums[p.topic] += p.lag
        return dict(sums)


def group_lags(
    committed: dict[str, dict[TopicPartition, int]],
    latest: dict[TopicPartition, int],
    history: OffsetHistory,
    now: float,
    members: dict[str, dict[TopicPartition, Member]] | None = None,
) -> list[GroupLag]:
    """Each group's lag per partition it has committed on (partitions no longer in the cluster,
    e.g. a deleted topic, are left out)."""
    result = []
    for group, offsets in sorted(committed.items()):
        assigned = (members or {}).get(group, {})
        lag = GroupLag(group)
        for tp, offset in sorted(offsets.items()):
            end = latest.get(tp)
            if end is None or offset < 0:
                continue
            lag.partitions.append(PartitionLag(
                group, tp[0], tp[1], offset, end, max(0, end - offset),
                history.lag_seconds(tp, offset, end, now), assigned.get(tp, Member()),
            ))  # fmt: skip
        result.append(lag)
    return result
