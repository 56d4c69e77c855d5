"""The receiving side: its own process reads an inbox from its end and times each dispatch."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from benchmarks.harness import Connection, settings_of
from benchmarks.worker_throughput.names import sent_ns
from exchange.settings import KafkaSettings

WARM_WITHIN_MS = 500.0
WARM_STREAK = 200
WARM_UP_AT_MOST_S = 120.0
"""The steady state the latency phase waits for: WARM_STREAK warm-up dispatches in a row (1 s at
200/s), each within WARM_WITHIN_MS of its scheduled send. A worker started on a fresh broker
first lags by seconds while its group settles (internal topics are created, then rebalanced);
that start-up is reported as the warm-up time, not mixed into the steady-state percentiles.
After WARM_UP_AT_MOST_S without the steady state, the latency is measured anyway and the
warm-up reported as "inf" (never steady)."""


@dataclass
class Received:
    """What a receiver saw: per dispatch its latency, and when the first and last batch came."""

    latencies_ms: list[float] = field(default_factory=list)
    count: int = 0
    first_batch: int = 0
    first_ns: int = 0
    last_ns: int = 0
    duplicates: int = 0


def _receiver_process(
    *, connection: Connection, topic: str, run: str, tag: str, expected: int, timeout_s: float,
    signals: tuple[Any, Any, Any],
) -> None:
    ready, warm, finished = signals
    finished.put(asyncio.run(_receive(
        settings=settings_of(connection), topic=topic, run=run, tag=tag, expected=expected,
        timeout_s=timeout_s, ready=ready, warm=warm,
    )))


async def _receive(
    *, settings: KafkaSettings, topic: str, run: str, tag: str, expected: int, timeout_s: float,
    ready: Any, warm: Any,
) -> Received:
    """Read ``topic`` from its current end until ``expected`` dispatches tagged ``tag`` came.

    No consumer group (partitions assigned by hand), so no offsets are committed anywhere."""
    consumer = AIOKafkaConsumer(**settings.aiokafka_kwargs(), group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in sorted(
        consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
    )]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    ready.set()
    measured = f"B-{run}-{tag}-".encode()
    warming = f"B-{run}-{tag}W-".encode()  # the warm-up sightings of the same phase
    prompt = 0  # warm-up dispatches in a row that came within WARM_WITHIN_MS
    seen: set[bytes] = set()
    result = Received()
    deadline = time.monotonic() + timeout_s
    while result.count < expected and time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=100, max_records=2000)
        now_ns = time.time_ns()
        fresh = 0
        for records in batch.values():
            for record in records:
                event_id = next((v for k, v in record.headers if k == "ce_id"), b"")
                if event_id.startswith(warming):
                    took_ms = (now_ns - sent_ns(event_id)) / 1e6
                    prompt = prompt + 1 if took_ms < WARM_WITHIN_MS else 0
                    if prompt >= WARM_STREAK:
                        warm.set()
                if not event_id.startswith(measured):
                    continue
                if event_id in seen:
                    result.duplicates += 1
                    continue
                seen.add(event_id)
                result.latencies_ms.append((now_ns - sent_ns(event_id)) / 1e6)
                fresh += 1
        if fresh:
            if not result.count:
                result.first_ns, result.first_batch = now_ns, fresh
            result.count += fresh
            result.last_ns = now_ns
    await consumer.stop()
    return result


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        await consumer._client.force_metadata_update()
        found = consumer.partitions_for_topic(topic)
        if found:
            return set(found)
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no partitions (does it exist?)")


class Receiver:
    """A receiver process; ``start`` returns once it is positioned at the end of the topic."""

    def __init__(
        self, connection: Connection, topic: str, *, run: str, tag: str, expected: int,
        timeout_s: float,
    ) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.ready, self.warm, self.finished = spawn.Event(), spawn.Event(), spawn.Queue()
        self.timeout_s = timeout_s
        self.process = spawn.Process(
            target=_receiver_process,
            kwargs={"connection": connection, "topic": topic, "run": run, "tag": tag,
                    "expected": expected, "timeout_s": timeout_s,
                    "signals": (self.ready, self.warm, self.finished)},
        )

    def start(self) -> None:
        self.process.start()
        if not self.ready.wait(60):
            self.process.kill()
            raise RuntimeError("the receiver did not get ready in 60 s")

    def result(self) -> Received:
        received: Received = self.finished.get(timeout=self.timeout_s + 60)
        self.process.join(30)
        return received

