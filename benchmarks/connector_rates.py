"""Benchmark of issue #5: connectors, each beside the bus's raw publish rate in the same run.

What is measured (local broker, SCRAM, ACLs; the ``transport`` agency publishing sightings to
``exchange.sighting``, 3 partitions, acks=all):

1. Raw publish rate (the baselines): ``--records`` pre-encoded sightings sent by a bare aiokafka
   producer (bytes only), then by :class:`exchange.client.publisher.Publisher` (validated model
   -> Avro + CloudEvents -> broker ack), both pipelined (all sends queued, then every ack
   awaited).
2. HTTP ingest gateway: ``exchange connect run`` of an ``http-gateway`` config in its own
   process; this process POSTs sightings (each with its own ``Idempotency-Key``) on a schedule of
   ``--rate`` requests per second for ``--seconds`` (open loop: a request is sent at its
   scheduled time whether or not earlier ones have been answered; latency is measured from the
   scheduled time, so a late client counts against it). Reported: accepted (202) events/s,
   p50/p99 latency. Then a closed loop with ``--concurrency`` clients for ``--seconds``, for the
   gateway's maximum accepted rate.
3. File-drop: a CSV of ``--rows`` sightings dropped into an inbox; a
   :class:`connectors.adapters.file_drop.FileDropSource` (in this process) reads, validates and
   publishes them; rows/s from the start until the file is moved to ``processed/``.

Usage (starts a local broker on ``--base-port`` under ``--state-dir`` if none is running there,
and applies the topology)::

    python -m benchmarks.connector_rates [--base-port 19092] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from benchmarks.harness import REPO, STATE, BenchBroker, nearest_rank
from connectors.adapters.file_drop import FileDropConfig, FileDropSource
from connectors.adapters.http_gateway import token_digest
from connectors.sdk.base import ConnectorContext
from exchange.client.publisher import Publisher
from exchange.codec import EventCodec
from exchange.examples import example_json
from exchange.metrics import BusMetrics
from exchange.models.exceptions import validate_event
from exchange.models.registry import EVENTS
from exchange.protection.unprotected import Unprotected
from exchange.schemas.catalogue import Catalogue
from exchange.settings import KafkaSettings
from exchange.tls.context import client_context
from exchange.topology.loader import load_topology

TOPIC = "exchange.sighting"
TOKEN = "bench-token"  # noqa: S105 - a token the benchmark gives its own gateway


def sighting(number: int) -> dict[str, Any]:
    return dict(example_json("transport-sighting"), sightingId=f"BENCH-{number:07d}")


async def raw_rates(settings: KafkaSettings, codec: EventCodec, records: int) -> dict[str, float]:
    model = EVENTS["transport-sighting"].model
    events = [validate_event(model, sighting(n)) for n in range(records)]
    encoded = [codec.encode(e, source="/bench/raw") for e in events]
    producer = AIOKafkaProducer(
        **settings.aiokafka_kwargs(), acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [
            await producer.send(TOPIC, value=e.value, key=e.key, headers=e.headers) for e in encoded
        ]
        await asyncio.gather(*futures)
        raw = records / (time.perf_counter() - started)
    finally:
        await producer.stop()
    topology = load_topology()
    registry = CollectorRegistry()
    async with Publisher(
        settings,
        codec,
        topology,
        agency="transport",
        source="/agencies/transport/bench/publisher",
        metrics=BusMetrics.on(registry),
        protection=Unprotected("benchmark: the unprotected baseline"),
    ) as publisher:
        started = time.perf_counter()
        pending = [await publisher.send_encoded_nowait(TOPIC, publisher.encode(e)) for e in events]
        await asyncio.gather(*pending)
        bus = records / (time.perf_counter() - started)
    return {
        "raw aiokafka producer (pre-encoded bytes)": raw,
        "Publisher (validated model -> Avro -> ack)": bus,
    }


async def _post(session: aiohttp.ClientSession, url: str, body: bytes) -> int:
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Idempotency-Key": uuid.uuid4().hex,
        "content-type": "application/json",
    }
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status


async def gateway_fixed_rate(
    url: str, rate: float, seconds: float, tls: ssl.SSLContext
) -> tuple[float, list[float]]:
    """Open loop at ``rate``/s: accepted/s and latencies (s) from each scheduled time."""
    body = json.dumps(sighting(0)).encode()
    latencies: list[float] = []
    accepted = 0
    connector = aiohttp.TCPConnector(limit=0, ssl=tls)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter() + 0.2
        total = int(rate * seconds)

        async def one(index: int) -> None:
            nonlocal accepted
            scheduled = start + index / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            status = await _post(session, url, body)
            if status == 202:
                accepted += 1
                latencies.append(time.perf_counter() - scheduled)

        await asyncio.gather(*(one(i) for i in range(total)))
        elapsed = time.perf_counter() - start
    return accepted / elapsed, latencies


async def gateway_closed_loop(
    url: str, concurrency: int, seconds: float, tls: ssl.SSLContext
) -> float:
    body = json.dumps(sighting(0)).encode()
    accepted = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, ssl=tls)) as session:
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal accepted
            while time.perf_counter() < deadline:
                if await _post(session, url, body) == 202:
                    accepted += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return accepted / (time.perf_counter() - started)


def start_gateway(
    folder: Path, port: int, state_dir: Path, bootstrap: str
) -> subprocess.Popen[bytes]:
    config = folder / "gateway.toml"
    config.write_text(
        'kind = "http-gateway"\nname = "bench-gateway"\nagency = "transport"\n'
        f'port = {port}\nstate_dir = "{folder / "state"}"\n'
        f'[[callers]]\nagency = "transport"\ntoken_sha256 = "{token_digest(TOKEN)}"\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "EXCHANGE_STATE_DIR": str(state_dir),
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
    }
    log = (folder / "gateway.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "exchange.cli.main", "connect", "run", str(config)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )


async def wait_healthy(url: str, tls: ssl.SSLContext) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls)) as session:
        for _ in range(200):
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the gateway did not start; see its log")


async def file_drop_rate(kafka_for: Any, codec: EventCodec, folder: Path, rows: int) -> float:
    inbox = folder / "inbox"
    inbox.mkdir()
    flat = []
    for n in range(rows):
        row = sighting(n)
        flat.append(
            {
                "sightingId": row["sightingId"],
                "observedAt": row["observedAt"],
                "location.lat": row["location"]["lat"],
                "location.lon": row["location"]["lon"],
                "location.regionCode": row["location"]["regionCode"],
                "reporter.agencyId": "transport",
                "reporter.unitId": "transport.rail",
                "suspectedPersons.0.gender": "MALE",
                "suspectedPersons.0.ageRange.min": 4,
                "suspectedPersons.0.ageRange.max": 6,
                "situation": row["situation"],
                "childAtRisk": "true",
                "reportedAt": row["reportedAt"],
            }
        )
    part = inbox / "batch.csv.part"
    with part.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(flat[0]))
        writer.writeheader()
        writer.writerows(flat)
    context = ConnectorContext(
        kafka_for, load_topology(), codec, CollectorRegistry(),
        lambda agency: Unprotected("benchmark: the unprotected baseline"),
    )
    config = FileDropConfig(
        kind="file-drop",
        name="bench-drop",
        agency="transport",
        inbox=inbox,
        event_type="transport-sighting",
        state_dir=folder / "state",
        poll_interval_s=0.05,
    )
    source = FileDropSource(config, context)
    stop = asyncio.Event()
    await source.setup()
    part.rename(inbox / "batch.csv")
    started = time.perf_counter()
    task = asyncio.create_task(source.run(stop))
    try:
        while not (inbox / "processed" / "batch.csv").exists():  # noqa: ASYNC110 - a file, no event
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        await task
        await source.close()
    refused = context.registry.get_sample_value(
        "exchange_connector_records_total", {"connector": "bench-drop", "outcome": "refused"}
    )
    if refused:
        raise RuntimeError(f"{refused} rows refused: the benchmark's rows are wrong")
    return rows / elapsed


async def main_async(args: argparse.Namespace) -> None:
    state_dir = args.state_dir.resolve()
    broker = BenchBroker.up(state_dir, args.base_port)
    cluster, kafka_for = broker.cluster, broker.kafka_as

    codec = EventCodec(Catalogue.load())
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpu, python "
        f"{platform.python_version()}; broker {cluster.bootstrap}"
    )
    rates = await raw_rates(kafka_for("transport"), codec, args.records)
    print(f"\n== Raw publish rate: {args.records} sightings, pipelined ==")
    for label, rate in rates.items():
        print(f"{label:<48}{rate:>10,.0f} events/s")
    raw = max(rates.values())
    with tempfile.TemporaryDirectory(prefix="bench-connectors-") as tmp:
        folder = Path(tmp)
        gateway = start_gateway(folder, args.gateway_port, state_dir, cluster.bootstrap)
        try:
            # HTTPS, with the certificate the local CA issued to the gateway.
            base = f"https://127.0.0.1:{args.gateway_port}"
            tls = client_context(cafile=state_dir / "pki" / "ca.crt")
            await wait_healthy(f"{base}/healthz", tls)
            url = f"{base}/v1/events/transport-sighting"
            await gateway_closed_loop(url, 4, 1.0, tls)  # warm-up: connections, caches
            accepted, latencies = await gateway_fixed_rate(url, args.rate, args.seconds, tls)
            maximum = await gateway_closed_loop(url, args.concurrency, args.seconds, tls)
        finally:
            gateway.terminate()
            gateway.wait(30)
        print("\n== HTTP gateway (own process), POST + Idempotency-Key, 202 after broker ack ==")
        print(
            f"fixed rate {args.rate:.0f}/s for {args.seconds:.0f} s: accepted "
            f"{accepted:,.0f} events/s, latency p50 {statistics.median(latencies) * 1000:.1f} ms,"
            f" p99 {nearest_rank(latencies, 0.99) * 1000:.1f} ms, max "
            f"{max(latencies) * 1000:.1f} ms ({len(latencies)} accepted)"
        )
        print(
            f"closed loop, {args.concurrency} clients: accepted {maximum:,.0f} events/s "
            f"({maximum / raw:.1%} of the raw publish rate)"
        )
        rows = await file_drop_rate(kafka_for, codec, folder, args.rows)
        print(f"\n== File-drop: CSV of {args.rows} rows -> validated -> published ==")
        print(f"file-drop {rows:,.0f} rows/s ({rows / raw:.1%} of the raw publish rate)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", type=Path, default=STATE)
    parser.add_argument("--base-port", type=int, default=19092)
    parser.add_argument("--records", type=int, default=20_000, help="raw publish records")
    parser.add_argument("--rate", type=float, default=200.0, help="gateway requests/s (fixed)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32, help="closed-loop clients")
    parser.add_argument("--gateway-port", type=int, default=18480)
    parser.add_argument("--rows", type=int, default=20_000, help="file-drop rows")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
