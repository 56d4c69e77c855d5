"""The worker benchmark's phases in order (see :mod:`benchmarks.worker_throughput`)."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence

from kafka.admin import KafkaAdminClient, NewTopic

from benchmarks import worker_throughput
from benchmarks.harness import REPO, BenchBroker, connection_of, load_line, machine_line
from benchmarks.worker_throughput.comparison import Comparison
from benchmarks.worker_throughput.comparison import report as report_comparison
from benchmarks.worker_throughput.names import (
    BENCH_PORT,
    BENCH_STATE,
    DEADLINES,
    INBOX,
    WORKER_GROUP,
)
from benchmarks.worker_throughput.own_code import own_code_us
from benchmarks.worker_throughput.processes import Floor, Offsets, Worker
from benchmarks.worker_throughput.raw_loop import RawLoop, dispatch_template
from benchmarks.worker_throughput.receiver import Receiver
from benchmarks.worker_throughput.report import (
    FLOORS,
    Figures,
    latency_figures,
    report,
    throughput_of,
)
from benchmarks.worker_throughput.sender import Sender
from benchmarks.worker_throughput.sweep import batch_sweep, report_sweep
from exchange.codec import EventCodec
from exchange.schemas.catalogue import Catalogue


def run_benchmark(  # noqa: PLR0915 - four phases in sequence, kept in one place to read
    rate: float, seconds: float, records: int, base_port: int = BENCH_PORT, *,
    batch_sizes: Sequence[int] = (), swept: dict[int, Figures] | None = None,
) -> dict[str, Figures]:
    print(f"starting a fresh broker of the benchmark's own in {BENCH_STATE.relative_to(REPO)} ...",
          flush=True)
    broker = BenchBroker.up(BENCH_STATE, base_port, fresh=True)
    admin, topology, kafka_as = broker.admin, broker.topology, broker.kafka_as
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
        if batch_sizes and swept is not None:  # 3b. the worker at other batch sizes
            swept.update(batch_sweep(
                batch_sizes, log=log, kafka=kafka_as, police=police, sender=sender,
                offsets=offsets, run=run, rate=rate, seconds=seconds, records=records,
            ))

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
        broker.cluster.down()
    return figures


def main() -> None:
    doc = worker_throughput.__doc__ or ""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.worker_throughput", description=doc.split("\n\n")[0]
    )
    parser.add_argument("--rate", type=float, default=200.0, help="sightings/s, latency phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of latency phase")
    parser.add_argument("--records", type=int, default=20_000, help="pre-loaded sightings")
    parser.add_argument("--base-port", type=int, default=BENCH_PORT,
                        help="first port of the benchmark's own broker")
    parser.add_argument("--batch-sizes", default="", metavar="N,N,...",
                        help="also run the worker with these --batch-max values (e.g. 1,50,500)")
    compare = parser.add_mutually_exclusive_group()
    compare.add_argument("--compare-protection", action="store_true",
                         help="instead: the protected worker against the unprotected one, side "
                         "by side (issue 14; benchmarks/worker_throughput/comparison.py)")
    compare.add_argument("--compare-scrape", action="store_true",
                         help="instead: the worker scraped every 5 s against the same worker not "
                         "scraped (issue 15; benchmarks/worker_throughput/comparison.py)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="with --compare-*: rounds, each side in turn (default 2)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.batch_sizes.split(",") if size]
    print(machine_line())
    if args.compare_protection or args.compare_scrape:
        print(f"before: {load_line()}", flush=True)
        kind = "protection" if args.compare_protection else "scrape"
        sides = Comparison(args.rate, args.seconds, args.records, args.base_port,
                           kind).run(args.rounds)
        report_comparison(sides, args.rate, args.seconds, args.records, args.rounds)
        print(f"after: {load_line()}")
        return
    own_us = own_code_us(EventCodec(Catalogue.load()))  # first, on a quiet machine
    swept: dict[int, Figures] = {}
    figures = run_benchmark(args.rate, args.seconds, args.records, args.base_port,
                            batch_sizes=sizes, swept=swept)
    report(figures, own_us, args.rate, args.seconds, args.records)
    if swept:
        report_sweep(swept, figures["raw"].throughput, args.rate)


if __name__ == "__main__":
    main()
