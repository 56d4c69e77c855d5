"""What a Prometheus scrape costs a worker: the duration of one ``GET /metrics`` and the CPU it
takes from the worker's process, on a registry as large as a busy worker's.

The registry is the worker's own (``WorkflowMetrics`` with the bus's metrics, the evidence
metrics), every labelled series a busy worker could have, filled from the topology: per topic
the worker reads or writes, each of its event types (the worker publishes and consumes as
``workflows``); per police unit (``--units``) of the four police agencies, each dispatch kind
and routing rule; referrals per receiving agency and step; every histogram observed (each
child has all its buckets). An upper bound: a worker has only the series of what happened.

The HTTP server is the one every long-running process serves
(:class:`exchange.operations.health.OpsServer`), in this process like in the worker, so
``time.process_time`` counts the scrape's CPU (the server thread's), not the client's: the
client only reads the bytes, in another process (``curl``-like, urllib).

CPU time does not depend on the machine's load the way wall time does, so the CPU share of a
5 s scrape (CPU per scrape / 5 s) is the robust number; wall times are printed beside it.

Usage::

    python -m benchmarks.scrape_cost [--scrapes 200] [--units 60]
"""

from __future__ import annotations

import argparse
import itertools
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

from exchange.evidence.metrics import EvidenceMetrics
from exchange.operations.health import OpsServer
from exchange.topology.loader import load_topology
from exchange.topology.model import Topology
from exchange.workflows.runtime.metrics import WorkflowMetrics

AGENCY = "workflows"
"""The worker's bus metrics are its own: it publishes and consumes as ``workflows``."""
POLICE = ["police", "railway-police", "metro-police", "aviation-police"]
ADDRESSEES = ["civil-affairs", "health", "justice", "education", "human-resources",
              "womens-federation", "police"]
CAP = 500
"""Series per labelled metric at most (before a histogram's buckets): the cross product of
every label's values is far more than a worker ever sees."""

CLIENT = """
import sys, time, urllib.request
url, n = sys.argv[1], int(sys.argv[2])
for _ in range(n):
    t = time.perf_counter()
    with urllib.request.urlopen(url) as r:
        body = r.read()
    print(f"{time.perf_counter() - t:.6f} {len(body)}")
"""


def _values(topology: Topology, units: int) -> dict[str, list[str]]:
    """Plausible values of each label name outside the (topic, type, agency) triples."""
    return {
        "agency": [AGENCY], "unit": [f"unit-{i:03d}" for i in range(units)],
        "kind": ["RESPOND", "INFORM", "ESCALATE"], "rule": ["facility", "district", "nearest",
        "outside-xian", "transit"], "timeliness": ["on_time", "late"],
        "reason": ["invalid-event", "avro-decode", "handler-error", "unsigned", "bad-signature"],
        "topic": [t.name for t in topology.topics if AGENCY in t.readers or AGENCY in t.writers],
        "status": ["ACCEPTED", "IN_PROGRESS", "COMPLETED", "DECLINED"],
        "purpose": ["assistance", "medical", "legal-aid", "schooling"],
        "channel": ["hotline", "app", "mailbox"], "msg_type": ["Alert", "Update", "Cancel"],
        "radius_km": ["100", "200", "300", "500"], "outcome": ["done", "failed"],
        "action": ["revoke", "ban", "reinstate"], "level": ["district", "city"],
        "partition": ["0", "1", "2"], "group": ["workflows.main"], "error": ["KafkaTimeoutError"],
        "type": sorted({k for t in topology.topics for k in t.event_types}),
    }


def _children(metric: MetricWrapperBase, topology: Topology,
              values: dict[str, list[str]]) -> Iterator[tuple[str, ...]]:
    names = metric._labelnames
    if set(names) >= {"topic", "type", "agency"}:  # per topic the worker uses: its types
        for topic in topology.topics:
            if AGENCY in topic.readers or AGENCY in topic.writers:
                for kind in topic.event_types or ("exchange.events.Unknown",):
                    yield tuple({"topic": topic.name, "type": kind, "agency": AGENCY,
                                 "error": "KafkaTimeoutError"}[n] for n in names)
        return
    if "unit" in names or "purpose" in names or "status" in names:  # the addressed agencies
        values = {**values, "agency": POLICE if "unit" in names else ADDRESSEES}
    yield from itertools.islice(itertools.product(*(values[n] for n in names)), CAP)


def busy_registry(topology: Topology, units: int) -> tuple[CollectorRegistry, int]:
    """The worker's registry with its series filled; returns it and its number of series."""
    registry = CollectorRegistry()
    metrics = WorkflowMetrics(registry)
    EvidenceMetrics.on(registry)
    values = _values(topology, units)
    wrappers = [m for holder in (metrics, metrics.bus, EvidenceMetrics.on(registry))
                for m in vars(holder).values() if isinstance(m, MetricWrapperBase)]
    for metric in wrappers:
        if not metric._labelnames:
            continue
        for labels in _children(metric, topology, values):
            child = metric.labels(*labels)
            if isinstance(child, Histogram):
                child.observe(0.2)
            elif isinstance(child, Counter):
                child.inc()
            elif isinstance(child, Gauge):
                child.set(1)
    series = sum(len(family.samples) for family in registry.collect())
    return registry, series


def measure(registry: CollectorRegistry, scrapes: int) -> tuple[list[float], float, int]:
    """Wall seconds of each scrape (as the client saw it), this process's CPU seconds per
    scrape, and the body's size."""
    server = OpsServer(registry, lambda: None, 0).start()
    try:
        url = f"http://127.0.0.1:{server.port}/metrics"
        subprocess.run([sys.executable, "-c", CLIENT, url, "5"], check=True,
                       capture_output=True)  # warm up
        cpu = time.process_time()
        out = subprocess.run([sys.executable, "-c", CLIENT, url, str(scrapes)], check=True,
                             capture_output=True, text=True).stdout
        cpu = time.process_time() - cpu
    finally:
        server.stop()
    rows = [line.split() for line in out.splitlines()]
    return [float(r[0]) for r in rows], cpu / scrapes, int(rows[-1][1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--units", type=int, default=60,
                        help="police units with dispatches (Xi'an has ~60 sub-bureaus and posts)")
    parser.add_argument("--interval", type=float, default=5.0, help="scrape interval, seconds")
    args = parser.parse_args()
    registry, series = busy_registry(load_topology(), args.units)
    wall, cpu, size = measure(registry, args.scrapes)
    wall.sort()
    print(f"python {platform.python_version()}, {platform.machine()}, "
          f"{args.scrapes} scrapes of a worker registry with {series} series ({size} bytes)")
    print(f"wall per scrape: p50 {statistics.median(wall) * 1000:.1f} ms, "
          f"p99 {wall[int(len(wall) * 0.99) - 1] * 1000:.1f} ms")
    print(f"CPU per scrape (the serving process): {cpu * 1000:.1f} ms = "
          f"{cpu / args.interval * 100:.2f}% of one core at one scrape every {args.interval:g} s")


if __name__ == "__main__":
    main()
