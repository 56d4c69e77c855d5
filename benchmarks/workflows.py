"""Benchmark of issue #3: the sighting workflow, against a raw loop measured in the same run.

What is measured (sighting -> police inbox, on the local broker, SCRAM, ACLs):

1. Latency at a steady rate: the ``transport`` agency publishes sightings with
   :class:`exchange.client.publisher.Publisher`, paced at ``--rate`` per second for ``--seconds``;
   a receiver in its own process reads the police inbox as the ``police`` principal and records,
   per dispatch, its receive time minus the sighting's *scheduled* send time (carried in the
   sighting id ``B-<run>-L-<seq>-<ns>``; the scheduled time, so that a late producer counts
   against the latency instead of hiding it). Targets: p99 < 250 ms at 200 sightings/s.
   Measured in the steady state: both are first warmed up at the same rate until
   :data:`WARM_STREAK` dispatches in a row come within :data:`WARM_WITHIN_MS`; the warm-up's
   length is printed (a worker started on a fresh broker lags by seconds while its group
   settles).
2. Maximum sustained throughput of one worker process: ``--records`` sightings are pre-loaded
   into ``exchange.sighting`` while the worker is stopped; then the worker starts and the rate
   is taken from its first dispatch seen in the police inbox to its last. Targets: >= 5,000
   sightings/s and >= 40% of the raw loop.
3. The faust floor, on the same pre-loaded records: a faust agent made by the worker's own app
   factory that only sends one record per sighting, then one that also writes one table entry
   (``benchmarks/faust_floor.py``): the least any faust worker pays per sighting for its
   dispatch and its deadline entry. The worker cannot be faster, whatever its own code costs.

The workflow is the real ``exchange worker --replication 1`` (faust-streaming, app
``workflows.main``, as the ``workflows`` principal), started fresh for each measurement, its
output kept in ``.state/bench-workflows-<run>.log``. Every sighting has ``facility=None`` and
``regionCode=610113``, so it is dispatched once, to ``exchange.sighting.to.police``.

The baseline is a raw aiokafka consume -> transform -> produce loop in its own process, as the
``workflows`` principal, in a fresh group ``workflows.bench-raw-<run>``: it decodes each
sighting with bare fastavro, builds the dispatch as a plain dict, encodes it with bare fastavro
(the same 495-byte record the worker sends; no validation, no routing, no dedupe, no tables) and
produces it to ``workflows.bench-raw-<run>`` (3 partitions, created as admin and deleted
afterwards; the receiver reads it as admin), awaiting the broker's acks and then committing,
once per batch of up to 500. It is measured the same two ways, on the same pre-loaded records.

The benchmark runs on a broker of its own, started fresh for every run (``.state/bench-broker``,
127.0.0.1:39092, the repository's topology applied): the development broker's leftover tables
(e.g. thousands of pending deadlines coming due) would otherwise weigh on the worker measured.

Usage::

    python benchmarks/workflows.py [--rate 200] [--seconds 20] [--records 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import io
import multiprocessing
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastavro import schemaless_reader, schemaless_writer
from kafka import KafkaConsumer
from kafka import TopicPartition as SyncTopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from prometheus_client import CollectorRegistry

from exchange.broker.local import LocalCluster
from exchange.client.publisher import Publisher
from exchange.codec import EventCodec
from exchange.credentials import CredentialStore
from exchange.examples.core import example_transport_sighting
from exchange.metrics import BusMetrics
from exchange.models.sightings import TransportSighting
from exchange.rules import deadlines
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.schemas.catalogue import Catalogue
from exchange.settings import KafkaSettings
from exchange.topology.apply import apply_topology
from exchange.topology.loader import load_topology
from exchange.topology.model import Topology
from exchange.workflows.runtime import create_app
from exchange.workflows.sightings import SOURCE_TOPIC, inbox_of, plan_dispatches

REPO = Path(__file__).resolve().parent.parent
BENCH_STATE = REPO / ".state" / "bench-broker"
BENCH_PORT = 39092
INBOX = inbox_of("police")
WORKER_GROUP: str = inspect.signature(create_app).parameters["app_id"].default
SIGHTING = "exchange.events.TransportSighting"
DISPATCH = "exchange.events.SightingDispatch"
DEADLINES = f"{WORKER_GROUP}-sightings-deadlines-changelog"
PREFIX_LEN = 10  # single-object encoding: C3 01 + 8-byte fingerprint
Connection = dict[str, str]


def connection_of(settings: KafkaSettings) -> Connection:
    """Picklable connection details for a spawned process."""
    if not settings.username or settings.password is None:
        raise RuntimeError("the benchmark connects with SCRAM credentials; none known")
    return {
        "bootstrap": settings.bootstrap_servers, "username": settings.username,
        "password": settings.password.get_secret_value(),
    }


def settings_of(connection: Connection) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=connection["bootstrap"]).with_principal(
        connection["username"], connection["password"]
    )


def police_sighting() -> TransportSighting:
    """The example sighting moved off the train: one dispatch, to the police (Yanta)."""
    example = example_transport_sighting()
    location = example.location.model_copy(update={"facility": None, "regionCode": "610113"})
    return TransportSighting.model_validate(
        example.model_copy(update={"location": location}).model_dump()
    )


def sighting_id(run: str, tag: str, seq: int, sent_ns: int) -> str:
    return f"B-{run}-{tag}-{seq}-{sent_ns}"


def _sent_ns(event_id: bytes) -> int:
    """The scheduled send time carried in a dispatch id (``<sighting id>:<kind>``)."""
    return int(event_id.split(b":", 1)[0].rsplit(b"-", 1)[1])


WARM_WITHIN_MS = 500.0
WARM_STREAK = 200
WARM_UP_AT_MOST_S = 120.0
"""The steady state the latency phase waits for: WARM_STREAK warm-up dispatches in a row (1 s at
200/s), each within WARM_WITHIN_MS of its scheduled send. A worker started on a fresh broker
first lags by seconds while its group settles (internal topics are created, then rebalanced);
that start-up is reported as the warm-up time, not mixed into the steady-state percentiles.
After WARM_UP_AT_MOST_S without the steady state, the latency is measured anyway and the
warm-up reported as "inf" (never steady)."""


# -- the receiving side: its own process, reads an inbox, times each dispatch ---------------


@dataclass
class Received:
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
                    took_ms = (now_ns - _sent_ns(event_id)) / 1e6
                    prompt = prompt + 1 if took_ms < WARM_WITHIN_MS else 0
                    if prompt >= WARM_STREAK:
                        warm.set()
                if not event_id.startswith(measured):
                    continue
                if event_id in seen:
                    result.duplicates += 1
                    continue
                seen.add(event_id)
                result.latencies_ms.append((now_ns - _sent_ns(event_id)) / 1e6)
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


# -- the baseline: raw aiokafka consume -> transform -> produce, bare fastavro ---------------


def _raw_loop_process(
    *, connection: Connection, group: str, out_topic: str, start: dict[int, int] | None,
    template: tuple[bytes, dict[str, Any], list[tuple[str, bytes]]], signals: tuple[Any, Any],
) -> None:
    ready, stop = signals
    asyncio.run(_raw_loop(
        settings=settings_of(connection), group=group, out_topic=out_topic, start=start,
        template=template, ready=ready, stop=stop,
    ))


async def _raw_loop(
    *, settings: KafkaSettings, group: str, out_topic: str, start: dict[int, int] | None,
    template: tuple[bytes, dict[str, Any], list[tuple[str, bytes]]], ready: Any, stop: Any,
) -> None:
    prefix, base, headers = template
    catalogue = Catalogue.load()
    sighting_schema = catalogue.latest(SIGHTING).parsed
    dispatch_schema = catalogue.latest(DISPATCH).parsed
    copied = ("sightingId", "observedAt", "location", "reporter", "suspectedPersons",
              "situation", "childAtRisk", "destination")
    consumer = AIOKafkaConsumer(
        SOURCE_TOPIC, **settings.aiokafka_kwargs(), group_id=group, enable_auto_commit=False,
        auto_offset_reset="latest",
    )
    producer = AIOKafkaProducer(
        **settings.aiokafka_kwargs(), acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    await consumer.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    for partition in consumer.assignment():
        if start is None:
            await consumer.seek_to_end(partition)
        else:
            consumer.seek(partition, start[partition.partition])
        await consumer.position(partition)
    ready.set()
    while not stop.is_set():
        batch = await consumer.getmany(timeout_ms=100, max_records=500)
        acks = []
        for records in batch.values():
            for record in records:
                sighting = schemaless_reader(
                    io.BytesIO(record.value[PREFIX_LEN:]), sighting_schema, sighting_schema
                )
                event_id = next(v for k, v in record.headers if k == "ce_id") + b":respond"
                now = datetime.now(UTC)
                dispatch = dict(base)
                for name in copied:
                    dispatch[name] = sighting[name]
                dispatch |= {"dispatchId": event_id.decode(), "dispatchedAt": now,
                             "ackDueAt": now + timedelta(minutes=5)}
                buffer = io.BytesIO()
                buffer.write(prefix)
                schemaless_writer(buffer, dispatch_schema, dispatch)
                out_headers = [(k, event_id if k == "ce_id" else v) for k, v in headers]
                acks.append(await producer.send(
                    out_topic, value=buffer.getvalue(), key=record.key, headers=out_headers
                ))
        if acks:
            await asyncio.gather(*acks)
            await consumer.commit()
    await consumer.stop()
    await producer.stop()


class RawLoop:
    def __init__(
        self, connection: Connection, group: str, out_topic: str, start: dict[int, int] | None,
        template: tuple[bytes, dict[str, Any], list[tuple[str, bytes]]],
    ) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.ready, self.stop_event = spawn.Event(), spawn.Event()
        self.process = spawn.Process(
            target=_raw_loop_process,
            kwargs={"connection": connection, "group": group, "out_topic": out_topic,
                    "start": start, "template": template,
                    "signals": (self.ready, self.stop_event)},
        )

    def start(self) -> None:
        self.process.start()
        if not self.ready.wait(60):
            self.process.kill()
            raise RuntimeError("the raw loop did not join its group in 60 s")

    def stop(self) -> None:
        self.stop_event.set()
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()


# -- the workflow worker: the real `exchange worker`, one process ----------------------------


class Worker:
    def __init__(self, log: Path, kafka: KafkaSettings, data_dir: Path) -> None:
        self.log = log
        self.env = {
            **os.environ, "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "EXCHANGE_KAFKA__USERNAME": kafka.username or "",
            "EXCHANGE_KAFKA__PASSWORD": kafka.password.get_secret_value() if kafka.password else "",
        }
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [str(REPO / ".venv/bin/exchange"), "worker", "--replication", "1",
                "--data-dir", str(self.data_dir)]

    def start(self) -> None:
        with self.log.open("ab") as out:
            started = f"{type(self).__name__.lower()} started {datetime.now(UTC).isoformat()}"
            out.write(f"\n==== {started} ====\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                self.command(), cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.env,
            )

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the worker exited ({self.process.returncode}); see {self.log}")


class Floor(Worker):
    """The faust floor (``benchmarks/faust_floor.py``): one send, and with ``table`` one table
    write, per sighting; nothing else."""

    def __init__(
        self, log: Path, kafka: KafkaSettings, data_dir: Path, *, app_id: str, out: str,
        table: bool,
    ) -> None:
        super().__init__(log, kafka, data_dir)
        self.app_id, self.out, self.table = app_id, out, table

    def command(self) -> list[str]:
        return [sys.executable, str(REPO / "benchmarks" / "faust_floor.py"),
                "--app-id", self.app_id, "--out", self.out, "--data-dir", str(self.data_dir),
                *(["--table"] if self.table else [])]


# -- the broker side: offsets, lag ------------------------------------------------------------


class Offsets:
    def __init__(self, admin: KafkaSettings) -> None:
        self.admin = KafkaAdminClient(**admin.kafka_python_kwargs())
        self.consumer = KafkaConsumer(**admin.kafka_python_kwargs())
        partitions = self.consumer.partitions_for_topic(SOURCE_TOPIC) or set()
        self.partitions = [SyncTopicPartition(SOURCE_TOPIC, p) for p in sorted(partitions)]

    def end(self) -> dict[int, int]:
        return {tp.partition: o for tp, o in self.consumer.end_offsets(self.partitions).items()}

    def records(self, topic: str) -> int:
        partitions = self.consumer.partitions_for_topic(topic) or set()
        ends = self.consumer.end_offsets([SyncTopicPartition(topic, p) for p in partitions])
        return sum(ends.values())

    def lag(self, group: str) -> int:
        committed = self.admin.list_group_offsets({group: self.partitions}).get(group, {})
        end = self.end()
        return sum(
            end[tp.partition] - max(getattr(committed.get(tp), "offset", 0), 0)
            for tp in self.partitions
        )

    def wait_caught_up(self, group: str, worker: Worker | None, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while (lag := self.lag(group)) > 0:
            if worker is not None:
                worker.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"group {group} still {lag} records behind after {timeout_s}s")
            time.sleep(0.5)

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()


# -- the sending side: the transport agency ---------------------------------------------------


class Sender:
    def __init__(
        self, transport: KafkaSettings, codec: EventCodec, topology: Topology, run: str
    ) -> None:
        self.transport, self.codec, self.topology, self.run = transport, codec, topology, run
        self.sighting = police_sighting()

    def _publisher(self) -> Publisher:
        return Publisher(
            self.transport, self.codec, self.topology, agency="transport",
            source=f"/bench/{self.run}", metrics=BusMetrics.on(CollectorRegistry()),
        )

    async def _send(self, publisher: Publisher, tag: str, seq: int, sent_ns: int) -> Any:
        event_id = sighting_id(self.run, tag, seq, sent_ns)
        event = self.sighting.model_copy(update={"sightingId": event_id})
        return await publisher.send_encoded_nowait(
            SOURCE_TOPIC, publisher.encode(event, id=event_id)
        )

    def preload(self, tag: str, records: int) -> None:
        async def go() -> None:
            async with self._publisher() as publisher:
                pending = [await self._send(publisher, tag, i, 0) for i in range(records)]
                await asyncio.gather(*pending)

        asyncio.run(go())

    def paced(
        self, warm: Any, rate: float, seconds: float, worker: Worker | None, tag: str
    ) -> tuple[float, float]:
        """Warm up at ``rate`` until the receiver sees the steady state (:data:`WARM_STREAK`),
        then the measured sightings.

        Returns the rate achieved by the measured part and how long the warm-up took."""

        async def go() -> tuple[float, float]:
            async with self._publisher() as publisher:
                started = time.monotonic()
                seq = 0
                while not warm.is_set() and time.monotonic() < started + WARM_UP_AT_MOST_S:
                    if worker is not None:
                        worker.check_alive()
                    await self._at_rate(publisher, f"{tag}W", rate, 1.0, first=seq)
                    seq += round(rate)
                warmed_s = time.monotonic() - started if warm.is_set() else float("inf")
                return await self._at_rate(publisher, tag, rate, seconds), warmed_s

        return asyncio.run(go())

    async def _at_rate(
        self, publisher: Publisher, tag: str, rate: float, seconds: float, first: int = 0
    ) -> float:
        count = round(rate * seconds)
        interval_ns = 1e9 / rate
        start_ns = time.time_ns() + 10_000_000
        pending = []
        for i in range(count):
            due_ns = start_ns + round(i * interval_ns)
            wait_ns = due_ns - time.time_ns()
            if wait_ns > 0:
                await asyncio.sleep(wait_ns / 1e9)
            pending.append(await self._send(publisher, tag, first + i, due_ns))
        last_sent_ns = time.time_ns()
        await asyncio.gather(*pending)
        return count / max((last_sent_ns - start_ns) / 1e9, 1e-9) if count > 1 else 0.0


# -- the benchmark -----------------------------------------------------------------------------


@dataclass
class Figures:
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    max_ms: float = float("nan")
    measured: int = 0
    missing: int = 0
    sent_rate: float = 0.0
    throughput: float = float("nan")
    throughput_missing: int = 0
    warmup_s: float = float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


def latency_figures(figures: Figures, received: Received, expected: int, rate: float) -> None:
    figures.p50_ms = percentile(received.latencies_ms, 0.50)
    figures.p99_ms = percentile(received.latencies_ms, 0.99)
    figures.max_ms = max(received.latencies_ms, default=float("nan"))
    figures.measured, figures.missing = received.count, expected - received.count
    figures.sent_rate = rate


def throughput_of(received: Received, expected: int) -> tuple[float, int]:
    """Dispatches per second after the first batch seen, until the last."""
    elapsed = (received.last_ns - received.first_ns) / 1e9
    rate = (received.count - received.first_batch) / elapsed if elapsed > 0 else float("nan")
    return rate, expected - received.count


def dispatch_template(codec: EventCodec) -> tuple[bytes, dict[str, Any], list[tuple[str, bytes]]]:
    """Prefix, plain-dict body and headers of the dispatch the worker sends for one sighting."""
    sighting = police_sighting()
    dispatch = plan_dispatches(sighting, "template", load_jurisdiction(), datetime.now(UTC))[0]
    encoded = codec.encode(dispatch, source="/agencies/workflows/sightings", id="template")
    return encoded.value[:PREFIX_LEN], dispatch.model_dump(), encoded.headers


FLOORS = {"floor-send": (False, "send"), "floor-table": (True, "send + table write")}
"""The faust floor's two runs: kind -> (whether it also writes a table entry, label)."""


def own_code_us(codec: EventCodec, rounds: int = 3000) -> float:
    """Microseconds per sighting of the sighting workflow's own work, measured alone (no
    broker, no faust): decode and validate the sighting, plan its dispatch, encode it, build
    its deadline entry. Inside the worker every step costs more than here, so the bound this
    gives is generous."""
    encoded = codec.encode(police_sighting(), source="/agencies/transport/bench", id="bench")
    jurisdiction = load_jurisdiction()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            decoded = codec.decode(encoded.value, encoded.headers)
            sighting = decoded.event
            if not isinstance(sighting, TransportSighting):
                raise TypeError(type(sighting))
            for dispatch in plan_dispatches(sighting, "bench", jurisdiction, datetime.now(UTC)):
                codec.encode(dispatch, source="/agencies/workflows/sightings",
                             id=dispatch.dispatchId)
                deadlines.pending(dispatch, "/agencies/transport/bench").dumps()
        best = min(best, (time.perf_counter() - started) / rounds * 1e6)
    return best


def run_benchmark(  # noqa: PLR0915 - four phases in sequence, kept in one place to read
    rate: float, seconds: float, records: int
) -> dict[str, Figures]:
    print(f"starting a fresh broker of the benchmark's own in {BENCH_STATE.relative_to(REPO)} ...",
          flush=True)
    cluster = LocalCluster(BENCH_STATE, base_port=BENCH_PORT)
    cluster.reset()
    cluster.up()
    admin = cluster.admin_settings()
    topology = load_topology()
    credentials = CredentialStore(BENCH_STATE / "credentials")
    apply_topology(topology, admin, credentials, 1)

    def kafka_as(agency: str) -> KafkaSettings:
        principal = topology.principal_of(agency)
        return KafkaSettings(bootstrap_servers=cluster.bootstrap).with_principal(
            principal, credentials.password_for(principal)
        )

    codec = EventCodec(Catalogue.load())
    run = uuid.uuid4().hex[:6]
    log = REPO / ".state" / f"bench-workflows-{run}.log"
    police = connection_of(kafka_as("police"))
    workflows = connection_of(kafka_as("workflows"))
    admin_connection = connection_of(admin)
    sender = Sender(kafka_as("transport"), codec, topology, run)
    template = dispatch_template(codec)
    raw_topic, raw_group = f"workflows.bench-raw-{run}", f"workflows.bench-raw-{run}"
    expected = round(rate * seconds)
    floor_prefix = f"workflows.bench-floor-{run}"
    figures = {"worker": Figures(), "raw": Figures(), **{kind: Figures() for kind in FLOORS}}
    offsets = Offsets(admin)
    client = KafkaAdminClient(**admin.kafka_python_kwargs())
    client.create_topics([NewTopic(raw_topic, 3, 1)])
    worker = Worker(log, kafka_as("workflows"), BENCH_STATE / f"worker-{run}")
    print(f"run {run}: worker log {log.relative_to(REPO)}, worker group {WORKER_GROUP}; "
          f"its deadline table's changelog holds {offsets.records(DEADLINES)} records "
          "carried over from earlier runs", flush=True)
    try:
        # 1. raw loop at a steady rate (first, so the worker then consumes these as backlog and
        #    the workflows group ends the run caught up).
        print(f"latency, raw loop, {rate:.0f}/s for {seconds:.0f} s ...", flush=True)
        receiver = Receiver(
            admin_connection, raw_topic, run=run, tag="RL", expected=expected,
            timeout_s=seconds + 120,
        )
        receiver.start()
        loop = RawLoop(workflows, raw_group, raw_topic, None, template)
        loop.start()
        try:
            sent, figures["raw"].warmup_s = sender.paced(
                receiver.warm, rate, seconds, None, "RL"
            )
            latency_figures(figures["raw"], receiver.result(), expected, sent)
        finally:
            loop.stop()

        # 2. the worker at a steady rate. Its sightings are tagged apart from the raw loop's
        #    ("WL" not "RL"): the worker first reads the raw phase's sightings as backlog, and
        #    their dispatches, minutes old, must not count (until 2026-11-30 they did, and
        #    filled the receiver before the worker's own sightings came: "p50 20 s").
        print(f"latency, worker, {rate:.0f}/s for {seconds:.0f} s ...", flush=True)
        receiver = Receiver(
            police, INBOX, run=run, tag="WL", expected=expected, timeout_s=seconds + 120
        )
        receiver.start()
        worker.start()
        try:
            offsets.wait_caught_up(WORKER_GROUP, worker, 600)
            sent, figures["worker"].warmup_s = sender.paced(
                receiver.warm, rate, seconds, worker, "WL"
            )
            latency_figures(figures["worker"], receiver.result(), expected, sent)
            offsets.wait_caught_up(WORKER_GROUP, worker, 600)
        finally:
            worker.stop()

        # 3. pre-load, then the worker's maximum throughput.
        start = offsets.end()
        print(f"pre-loading {records} sightings ...", flush=True)
        sender.preload("T", records)
        print("throughput, worker ...", flush=True)
        timeout = max(300.0, records / 50)
        receiver = Receiver(
            police, INBOX, run=run, tag="T", expected=records, timeout_s=timeout
        )
        receiver.start()
        worker.start()
        try:
            received = receiver.result()
            offsets.wait_caught_up(WORKER_GROUP, worker, 600)
        finally:
            worker.stop()
        figures["worker"].throughput, figures["worker"].throughput_missing = throughput_of(
            received, records
        )

        # 4. the raw loop's maximum throughput, on the same pre-loaded records.
        print("throughput, raw loop ...", flush=True)
        receiver = Receiver(
            admin_connection, raw_topic, run=run, tag="T", expected=records, timeout_s=timeout
        )
        receiver.start()
        loop = RawLoop(workflows, raw_group, raw_topic, start, template)
        loop.start()
        try:
            received = receiver.result()
        finally:
            loop.stop()
        figures["raw"].throughput, figures["raw"].throughput_missing = throughput_of(
            received, records
        )

        # 5. the faust floor on the same pre-loaded records: one send per sighting, then one
        #    send and one table write, nothing else (benchmarks/faust_floor.py).
        for kind, (table, what) in FLOORS.items():
            print(f"throughput, faust floor ({what} per sighting) ...", flush=True)
            app_id = f"{floor_prefix}-{kind}"
            receiver = Receiver(
                admin_connection, raw_topic, run=run, tag="T", expected=records,
                timeout_s=timeout,
            )
            receiver.start()
            floor = Floor(log, kafka_as("workflows"), BENCH_STATE / app_id, app_id=app_id,
                          out=raw_topic, table=table)
            floor.start()
            try:
                received = receiver.result()
            finally:
                floor.stop()
            figures[kind].throughput, figures[kind].throughput_missing = throughput_of(
                received, records
            )
    finally:
        worker.stop()
        try:
            floors = [t for t in client.list_topics() if t.startswith(floor_prefix)]
            client.delete_topics([raw_topic, *floors])
            client.delete_groups([raw_group, *(f"{floor_prefix}-{kind}" for kind in FLOORS)])
        except Exception as error:  # noqa: BLE001 - cleanup must not hide the figures
            print(f"cleanup: {error!r}", file=sys.stderr)
        client.close()
        offsets.close()
        cluster.down()
    return figures


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(
    figures: dict[str, Figures], own_us: float, rate: float, seconds: float, records: int
) -> None:
    worker, raw = figures["worker"], figures["raw"]
    ratio = worker.throughput / raw.throughput if raw.throughput else float("nan")
    print(f"\n== Issue #3: sighting -> police inbox, one dispatch each; latency at {rate:.0f}"
          f" sightings/s for {seconds:.0f} s; max throughput on {records} pre-loaded ==")
    print(f"{'':<44}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'sent/s':>8}{'sightings/s':>13}")
    labels = {
        "worker": "workflow worker (exchange worker, 1 proc)",
        "raw": "raw aiokafka loop + bare fastavro (1 proc)",
    }
    for kind, label in labels.items():
        f = figures[kind]
        print(f"{label:<44}{f.p50_ms:>8.1f}{f.p99_ms:>8.1f}{f.max_ms:>8.0f}{f.sent_rate:>8.0f}"
              f"{f.throughput:>13,.0f}")
    for kind, (_, what) in FLOORS.items():
        floor = figures[kind]
        label = f"faust floor: {what} (1 proc)"
        print(f"{label:<44}{'':>32}{floor.throughput:>13,.0f}")
    print(f"{'worker / raw loop (throughput)':<84}{ratio:>8.0%}")
    floor = figures["floor-table"].throughput
    bound = 1 / (1 / floor + own_us / 1e6)
    print(f"{'faust floor (send + table write) / raw loop':<84}{floor / raw.throughput:>8.0%}")
    print(f"the sighting workflow's own code, measured alone: {own_us:.0f} us per sighting; "
          f"on top of the floor that bounds one worker at {bound:,.0f}/s, "
          f"{bound / raw.throughput:.0%} of the raw loop")
    print(f"warm-up at {rate:.0f}/s before the latency was measured (until {WARM_STREAK} "
          f"dispatches in a row came within {WARM_WITHIN_MS:.0f} ms): worker "
          f"{worker.warmup_s:.0f} s, raw loop {raw.warmup_s:.0f} s")
    for kind, f in figures.items():
        if f.missing or f.throughput_missing:
            print(f"  {kind}: {f.missing} latency and {f.throughput_missing} throughput "
                  "dispatches never arrived")
    print(f"targets: p99 < 250 ms at {rate:.0f}/s: {verdict(worker.p99_ms < 250)} "
          f"({worker.p99_ms:.0f} ms); one worker >= 5,000/s: "
          f"{verdict(worker.throughput >= 5000)} ({worker.throughput:,.0f}/s); "
          f">= 40% of raw: {verdict(ratio >= 0.40)} ({ratio:.0%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="sightings/s, latency phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of latency phase")
    parser.add_argument("--records", type=int, default=20_000, help="pre-loaded sightings")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"python {platform.python_version()}")
    own_us = own_code_us(EventCodec(Catalogue.load()))  # first, on a quiet machine
    figures = run_benchmark(args.rate, args.seconds, args.records)
    report(figures, own_us, args.rate, args.seconds, args.records)


if __name__ == "__main__":
    main()
