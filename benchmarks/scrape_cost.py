"""What a Prometheus scrape costs the worker: its maximum throughput with and without /metrics
being read every 5 s (issue #15).

The same measurement as phase 3 of ``benchmarks/workflows.py`` (pre-loaded sightings, one
fresh ``exchange worker``, dispatches per second from its first dispatch to its last in the
police inbox), on a broker of its own (``.state/bench-scrape-broker``, 127.0.0.1:39292), run
alternately without and with a scraper that GETs the worker's ``/metrics`` every
``--interval`` seconds (as Prometheus would), ``--rounds`` times each; the best of each is
reported with every round's figure.

Usage::

    python benchmarks/scrape_cost.py [--records 20000] [--rounds 2] [--interval 5]
"""

from __future__ import annotations

import argparse
import threading
import urllib.request
import uuid

from workflows import (
    INBOX,
    REPO,
    WORKER_GROUP,
    Offsets,
    Receiver,
    Sender,
    Worker,
    connection_of,
    throughput_of,
)

from exchange.broker.local import LocalCluster
from exchange.codec import EventCodec
from exchange.credentials import CredentialStore
from exchange.schemas.catalogue import Catalogue
from exchange.settings import KafkaSettings
from exchange.topology.apply import apply_topology
from exchange.topology.loader import load_topology

STATE = REPO / ".state" / "bench-scrape-broker"
PORT = 39292
METRICS_PORT = 39399


class ScrapedWorker(Worker):
    def command(self) -> list[str]:
        return [*super().command(), "--metrics-port", str(METRICS_PORT)]


def scrape_every(interval_s: float, stop: threading.Event, sizes: list[int]) -> None:
    while not stop.wait(interval_s):
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=5
            ) as response:
                sizes.append(len(response.read()))
        except OSError:
            sizes.append(-1)  # not serving yet


def main() -> None:  # noqa: PLR0915 - set-up, rounds and report kept in one place to read
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args()
    cluster = LocalCluster(STATE, base_port=PORT)
    cluster.reset()
    cluster.up()
    try:
        topology = load_topology()
        credentials = CredentialStore(STATE / "credentials")
        apply_topology(topology, cluster.admin_settings(), credentials, 1)

        def kafka_as(agency: str) -> KafkaSettings:
            principal = topology.principal_of(agency)
            return KafkaSettings(bootstrap_servers=cluster.bootstrap).with_principal(
                principal, credentials.password_for(principal)
            )

        run = uuid.uuid4().hex[:6]
        codec = EventCodec(Catalogue.load())
        sender = Sender(kafka_as("transport"), codec, topology, run)
        police = connection_of(kafka_as("police"))
        offsets = Offsets(cluster.admin_settings())
        log = REPO / ".state" / f"bench-scrape-{run}.log"
        results: dict[str, list[float]] = {"no scrape": [], f"scrape every {args.interval:g} s": []}
        for round_ in range(args.rounds):
            for mode, figures in results.items():
                scraped = mode != "no scrape"
                tag = f"S{round_}{int(scraped)}"
                sender.preload(tag, args.records)
                receiver = Receiver(police, INBOX, run=run, tag=tag, expected=args.records,
                                    timeout_s=max(300.0, args.records / 50))  # fmt: skip
                worker_class = ScrapedWorker if scraped else Worker
                worker = worker_class(log, kafka_as("workflows"), STATE / f"worker-{run}")
                stop, sizes = threading.Event(), []
                scraper = threading.Thread(target=scrape_every, args=(args.interval, stop, sizes))
                receiver.start()
                worker.start()
                if scraped:
                    scraper.start()
                try:
                    received = receiver.result()
                    offsets.wait_caught_up(WORKER_GROUP, worker, 600)
                finally:
                    stop.set()
                    worker.stop()
                rate, missing = throughput_of(received, args.records)
                figures.append(rate)
                scrapes = [s for s in sizes if s > 0]
                print(f"round {round_ + 1}, {mode}: {rate:,.0f} sightings/s ({missing} missing)"
                      + (f", {len(scrapes)} scrapes of ~{max(scrapes, default=0):,} bytes"
                         if scraped else ""), flush=True)  # fmt: skip
        base = max(results["no scrape"])
        for mode, figures in results.items():
            best = max(figures)
            print(f"{mode:<20} best {best:,.0f}/s ({best / base:.1%} of no scrape); rounds: "
                  + ", ".join(f"{f:,.0f}" for f in figures))  # fmt: skip
        offsets.close()
    finally:
        cluster.down()


if __name__ == "__main__":
    main()
