"""The receiving side: its own process reads an inbox from its end and times each dispatch."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from benchmarks.harness import Connection, protection_of, settings_of
from benchmarks.worker_throughput.names import sent_ns
from exchange.codec import EventCodec
from exchange.codec.exceptions import DecodeError
from exchange.protection.exceptions import VerificationError
from exchange.protection.protected import ProtectedCodec
from exchange.schemas.catalogue import Catalogue
from exchange.settings import KafkaSettings
from exchange.topology.loader import load_topology

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
    written_ms: list[float] = field(default_factory=list)
    """Per timed dispatch, from its sighting's scheduled send until the worker handed the
    dispatch to its producer (the record's create time): the rest of its latency is the
    broker, the fetch and the opening."""
    count: int = 0
    first_batch: int = 0
    first_ns: int = 0
    last_ns: int = 0
    duplicates: int = 0
    refused: list[str] = field(default_factory=list)
    """Dispatches the receiver could not open (quarantined or dead-lettered), with the reason."""


Opener = Callable[[Any], None]
"""Opens one record as the receiving agency (raises if it cannot): its handling, timed."""


def opener_of(open_as: tuple[str, Path | None]) -> Opener:
    """``open_as`` = (agency, keys folder or None): verify and open each record with the agency's
    :class:`ProtectedCodec` (keys: :func:`benchmarks.harness.protection_of`), or with None
    decode it unprotected, as a reading agency does in either mode."""
    agency, keys_dir = open_as
    codec = EventCodec(Catalogue.load())
    protection = protection_of(agency, load_topology(), codec, keys_dir)

    def open_record(record: Any) -> None:
        if isinstance(protection, ProtectedCodec):
            protection.decode(record.key, record.value, record.headers,
                              (record.topic, record.partition, record.offset))
        else:
            codec.decode(record.value, record.headers)

    return open_record


def _receiver_process(
    *, connection: Connection, topic: str, run: str, tag: str, expected: int, timeout_s: float,
    signals: tuple[Any, Any, Any], open_as: tuple[str, Path | None] | None,
) -> None:
    ready, warm, finished = signals
    finished.put(asyncio.run(_receive(
        settings=settings_of(connection), topic=topic, run=run, tag=tag, expected=expected,
        timeout_s=timeout_s, ready=ready, warm=warm,
        opener=None if open_as is None else opener_of(open_as),
    )))


async def _receive(
    *, settings: KafkaSettings, topic: str, run: str, tag: str, expected: int, timeout_s: float,
    ready: Any, warm: Any, opener: Opener | None = None,
) -> Received:
    """Read ``topic`` from its current end until ``expected`` dispatches tagged ``tag`` came.

    With ``opener``, each tagged dispatch is opened before it counts, and its latency taken
    once opened (one that cannot be opened is kept in ``refused``, not timed).

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
                if opener is not None:
                    try:
                        opener(record)
                    except (VerificationError, DecodeError) as error:
                        result.refused.append(f"{event_id.decode()}: {error}")
                        continue
                    now_ns = time.time_ns()
                result.latencies_ms.append((now_ns - sent_ns(event_id)) / 1e6)
                result.written_ms.append(record.timestamp - sent_ns(event_id) / 1e6)
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
        timeout_s: float, open_as: tuple[str, Path | None] | None = None,
    ) -> None:
        """``open_as``: (agency, keys folder or None) to open each dispatch as that agency
        (:func:`opener_of`); None: only read its headers."""
        spawn = multiprocessing.get_context("spawn")
        self.ready, self.warm, self.finished = spawn.Event(), spawn.Event(), spawn.Queue()
        self.timeout_s = timeout_s
        self.process = spawn.Process(
            target=_receiver_process,
            kwargs={"connection": connection, "topic": topic, "run": run, "tag": tag,
                    "expected": expected, "timeout_s": timeout_s,
                    "signals": (self.ready, self.warm, self.finished), "open_as": open_as},
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

