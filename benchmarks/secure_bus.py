"""Issue #14's bus figures: the protected bus over TLS against the unprotected bus over plaintext,
the same records through the same broker in the same run.

The benchmark starts a broker of its own (``.state/bench-secure``, ports ``--base-port`` ..+2)
with the plaintext listener opened on purpose beside its TLS listener (SCRAM-SHA-512 on both; TLS
1.3 with the CA and host name verified). Transport publishes sightings to a copy of
``exchange.sighting`` (same readers, same entitlements); police reads them in its own process,
as a receiving agency would. Paths, interleaved round by round so that machine noise hits all
alike:

- ``plain``: plaintext listener, unprotected (no seal, no signature): the baseline;
- ``tls``: TLS listener, unprotected: what TLS alone costs;
- ``secure``: TLS listener, protected: every event's tagged fields sealed for the topic's
  entitled readers, signed by the Publisher in batches (the events published within its linger
  window share one Merkle-tree signature); the reader verifies and opens each event alone.

Two ways of publishing:

- **stream**: ``Publisher.publish`` called for every event without waiting for the previous one
  (as a connector draining a backlog does), in windows of 1,000;
- **one at a time**: each ``publish`` awaited before the next (as a form that sends one report
  does), fewer records.

Each figure is events/s from the first publish until the reader has handled them all; best of
``--rounds``. Targets: secure >= 50% of plain (stream), secure >= 40% of plain (one at a time).

Usage::

    python -m benchmarks.secure_bus [--records 20000] [--one-at-a-time 1000] [--rounds 3]
        [--base-port 39492]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord
from kafka.admin import KafkaAdminClient, NewTopic
from prometheus_client import CollectorRegistry

from benchmarks.harness import STATE as BENCH_STATE
from benchmarks.harness import (
    Connection,
    connection_of,
    load_line,
    machine_line,
    settings_of,
    target_line,
)
from exchange.broker.local import LocalCluster
from exchange.client.consumer import EventConsumer
from exchange.client.publisher import Publisher
from exchange.codec import DecodedEvent, EventCodec
from exchange.examples import example_json
from exchange.metrics import BusMetrics
from exchange.models.exceptions import validate_event
from exchange.models.registry import EVENTS
from exchange.protection.entitlements import load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier
from exchange.protection.unprotected import Unprotected
from exchange.schemas.catalogue import Catalogue
from exchange.settings import KafkaSettings
from exchange.topology.loader import load_topology
from exchange.topology.model import Topology

STATE = BENCH_STATE / "bench-secure"
PATHS = {
    "plain": "plaintext, unprotected (baseline)",
    "tls": "TLS, unprotected (TLS alone)",
    "secure": "TLS, protected (sealed, batch-signed, verified)",
}
WRITER, READER, MODEL_TOPIC = "transport", "police", "exchange.sighting"
WINDOW = 1_000


def bench_topology(topic: str) -> Topology:
    """The project's topology with ``topic`` added as a copy of ``exchange.sighting``."""
    topology = load_topology()
    model = topology.topic(MODEL_TOPIC).model_copy(update={"name": topic})
    return topology.model_copy(update={"topics": (*topology.topics, model)})


def protection(
    path: str, agency: str, topology: Topology, codec: EventCodec, keys_dir: Path
) -> ProtectedCodec | Unprotected:
    if path != "secure":
        return Unprotected("benchmark: the unprotected baseline")
    keys = FileKeyStore(keys_dir)  # one development host holding both agencies' keys
    verifier = Verifier(keys, writers_of=lambda name: topology.topic(name).writers)
    return ProtectedCodec(
        codec, keys, load_entitlements(topology=topology), agency=agency, verifier=verifier
    )


@dataclass(frozen=True)
class Run:
    """One publish -> read run: ``records`` events on ``topic`` by ``path``."""

    path: str
    topic: str
    keys_dir: Path
    records: int
    one_at_a_time: bool = False


# -- the reader, in its own process --


def _reader_process(run: Run, connection: Connection, signals: tuple[Any, Any]) -> None:
    ready, finished = signals
    finished.put(asyncio.run(_read(run, settings_of(connection), ready)))


async def _read(run: Run, settings: KafkaSettings, ready: Any) -> tuple[float, int]:
    """Read the run's events; return (monotonic time of the last, events not handled)."""
    codec = EventCodec(Catalogue.load())
    topology = bench_topology(run.topic)
    consumer = EventConsumer(
        settings, codec, [run.topic], agency=READER, group_id=f"bench.{uuid.uuid4().hex[:6]}",
        deadletter_topic=f"{run.topic}.dlq", quarantine_topic=f"{run.topic}.quarantine",
        metrics=BusMetrics.on(CollectorRegistry()),
        protection=protection(run.path, READER, topology, codec, run.keys_dir),
    )
    handled = 0

    async def handle(decoded: DecodedEvent, record: ConsumerRecord) -> None:
        nonlocal handled
        handled += 1

    await consumer.start()
    while not consumer._consumer.assignment():
        await consumer.poll_once(handle, timeout_ms=100)
    ready.set()
    deadline = time.monotonic() + 600
    while handled < run.records and time.monotonic() < deadline:
        await consumer.poll_once(handle, timeout_ms=1000)
    done = time.monotonic()
    await consumer.stop()
    return done, run.records - handled


# -- the writer --


async def _write(run: Run, settings: KafkaSettings) -> float:
    """Publish the run's sightings; return the monotonic time of the first publish."""
    codec = EventCodec(Catalogue.load())
    topology = bench_topology(run.topic)
    event = validate_event(EVENTS["transport-sighting"].model, example_json("transport-sighting"))
    async with Publisher(
        settings, codec, topology, agency=WRITER, source=f"/agencies/{WRITER}/bench",
        metrics=BusMetrics.on(CollectorRegistry()),
        protection=protection(run.path, WRITER, topology, codec, run.keys_dir),
    ) as publisher:
        started = time.monotonic()
        if run.one_at_a_time:
            for _ in range(run.records):
                await publisher.publish(event, topic=run.topic)
        else:
            for first in range(0, run.records, WINDOW):
                count = min(WINDOW, run.records - first)
                await asyncio.gather(*(publisher.publish(event, topic=run.topic)
                                       for _ in range(count)))
    return started


def run_once(run: Run, settings: KafkaSettings, admin: KafkaAdminClient) -> float:
    """Events/s of one publish -> read run (the reader in its own process)."""
    topics = [run.topic, f"{run.topic}.dlq", f"{run.topic}.quarantine"]
    admin.create_topics([NewTopic(t, 3, 1) for t in topics])
    spawn = multiprocessing.get_context("spawn")
    ready, finished = spawn.Event(), spawn.Queue()
    reader = spawn.Process(target=_reader_process,
                           args=(run, connection_of(settings), (ready, finished)))
    reader.start()
    try:
        if not ready.wait(90):
            raise RuntimeError(f"{run.path}: the reader did not join its group in 90 s")
        started = asyncio.run(_write(run, settings))
        done, missing = finished.get(timeout=660)
        if missing:
            raise RuntimeError(f"{run.path}: {missing} of {run.records} events not handled "
                               f"(quarantined or lost: see {run.topic}.quarantine)")
        return float(run.records / (done - started))
    finally:
        reader.join(30)
        if reader.is_alive():
            reader.kill()
        admin.delete_topics(topics)


def measure(
    listeners: dict[str, KafkaSettings], admin: KafkaSettings, keys_dir: Path,
    counts: dict[str, int], rounds: int,
) -> dict[tuple[str, str], float]:
    settings = {"plain": listeners["plaintext"], "tls": listeners["tls"],
                "secure": listeners["tls"]}
    best: dict[tuple[str, str], float] = {}
    client = KafkaAdminClient(**admin.kafka_python_kwargs())
    try:
        for number in range(rounds):
            for mode, count in counts.items():
                for path in PATHS:
                    if mode == "one at a time" and path == "tls":
                        continue  # the TLS cost is read from the stream
                    run = Run(path, f"bench.secure.{path}.{uuid.uuid4().hex[:6]}", keys_dir,
                              count, one_at_a_time=mode == "one at a time")
                    rate = run_once(run, settings[path], client)
                    print(f"  round {number + 1}: {mode:<13} {path:<6} {rate:>10,.0f} events/s",
                          flush=True)
                    best[mode, path] = max(best.get((mode, path), 0.0), rate)
    finally:
        client.close()
    return best


def report(best: dict[tuple[str, str], float]) -> None:
    print(f"\n{'mode':<15}{'path':<50}{'events/s':>10}{'/ plain':>9}")
    for (mode, path), rate in sorted(best.items(), key=lambda i: (i[0][0] != "stream", i[0])):
        print(f"{mode:<15}{PATHS[path]:<50}{rate:>10,.0f}{rate / best[mode, 'plain']:>9.0%}")
    stream = best["stream", "secure"] / best["stream", "plain"]
    single = best["one at a time", "secure"] / best["one at a time", "plain"]
    tls = best["stream", "tls"] / best["stream", "plain"]
    print(target_line("protected TLS bus / unprotected plaintext bus, stream", f"{stream:.0%}",
                      stream >= 0.5, ">= 50%",
                      f"plaintext unprotected {best['stream', 'plain']:,.0f} events/s"))
    print(target_line("protected TLS / unprotected plaintext, one event at a time",
                      f"{single:.0%}", single >= 0.4, ">= 40%",
                      f"plaintext unprotected {best['one at a time', 'plain']:,.0f} events/s"))
    print(f"TLS alone (both unprotected, stream): {tls:.0%} of plaintext; {load_line()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="events per stream run")
    parser.add_argument("--one-at-a-time", type=int, default=1_000,
                        help="events per one-at-a-time run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (best is reported)")
    parser.add_argument("--base-port", type=int, default=39492, help="the broker's first port")
    args = parser.parse_args()
    print(machine_line())
    cluster = LocalCluster(STATE, base_port=args.base_port, insecure_plaintext_listener=True)
    cluster.reset()
    cluster.up()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-keys-") as keys_dir:
            # every entitled reader of the topic needs an enc key to seal for
            FileKeyStore(Path(keys_dir)).init([a.id for a in load_topology().agencies])
            admin = cluster.admin_settings()
            listeners = {"plaintext": cluster.insecure_settings(), "tls": admin}
            print(f"\n== Secure bus: publish -> read, {args.records} transport sightings per "
                  f"stream run, {args.one_at_a_time} one at a time; 3 partitions, acks=all, "
                  f"SCRAM-SHA-512; plaintext {listeners['plaintext'].bootstrap_servers} vs TLS "
                  f"{admin.bootstrap_servers}; best of {args.rounds}; pid {os.getpid()} ==")
            counts = {"stream": args.records, "one at a time": args.one_at_a_time}
            best = measure(listeners, admin, Path(keys_dir), counts, args.rounds)
    finally:
        cluster.down()
    report(best)


if __name__ == "__main__":
    main()
