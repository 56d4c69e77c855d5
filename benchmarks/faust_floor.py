"""The floor under the sighting workflow's cost: a faust agent doing only what any sighting
must cost in faust-streaming, run by :mod:`benchmarks.worker_throughput` beside the worker and
the raw loop.

For each record of ``exchange.sighting`` the agent sends one record (the sighting's own bytes
and headers, so the benchmark's receiver times it like a dispatch) to ``--out``, with the
worker's own send path (:func:`exchange.workflows.runtime.emit.send`); with ``--table`` it also
writes one table entry of the same size (the sighting workflow writes its deadline entry: one
RocksDB write and one changelog record). No decoding, validation, routing or encoding. The app
is made by :func:`exchange.workflows.runtime.create_app`, so it has the worker's settings (fetch
wait, producer linger and buffer, commit interval, the consumer that closes faust's traps).

Whatever the sighting workflow's own code costs comes on top of this, so the floor's rate is an
upper bound on the worker's.

Usage (as the benchmark runs it; credentials in ``EXCHANGE_KAFKA__*``)::

    python -m benchmarks.faust_floor --app-id workflows.bench-floor-X --out TOPIC \\
        --data-dir DIR [--table]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import faust
from prometheus_client import CollectorRegistry

from exchange.cli import context
from exchange.codec import EventCodec
from exchange.schemas.catalogue import Catalogue
from exchange.workflows.runtime import (
    Streams,
    Workflow,
    WorkflowContext,
    WorkflowMetrics,
    create_app,
)
from exchange.workflows.runtime.emit import send
from exchange.workflows.runtime.faust_patches import QuietWorker
from exchange.workflows.sightings import SOURCE_TOPIC


def floor(out: str, *, table: bool) -> Workflow:
    def add_to(app: faust.App, workflow_context: WorkflowContext, streams: Streams) -> None:
        partitions = workflow_context.topology.topic(SOURCE_TOPIC).partitions
        target = streams.raw_topic(out)
        entries = streams.table("floor-entries", SOURCE_TOPIC) if table else None

        @app.agent(streams.raw_topic(SOURCE_TOPIC, partitions=partitions), name="floor",
                   concurrency=1)
        async def forward(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                message = event.message
                headers = list(message.headers or ())
                await send(app, target, key=message.key, value=message.value, headers=headers)
                if entries is not None:
                    entries[f"{message.partition}:{message.offset}"] = message.value

    return add_to


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-id", required=True, help="must start with 'workflows.'")
    parser.add_argument("--out", required=True, help="topic the records are forwarded to")
    parser.add_argument("--data-dir", type=Path, required=True, help="the app's RocksDB")
    parser.add_argument("--table", action="store_true", help="also write a table entry each")
    args = parser.parse_args()
    topology = context.topology()
    workflow_context = WorkflowContext(
        codec=EventCodec(Catalogue.load()), topology=topology,
        metrics=WorkflowMetrics(CollectorRegistry()),
    )
    app = create_app(
        context.kafka_as(topology.principal_of("workflows")), workflow_context,
        app_id=args.app_id, replication_cap=1, datadir=args.data_dir,
        workflows=[floor(args.out, table=args.table)],
    )
    sys.argv = [sys.argv[0], "worker"]  # faust's own command line: run the worker
    QuietWorker(app, loglevel="warn", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
