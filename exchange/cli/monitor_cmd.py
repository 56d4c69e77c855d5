"""``exchange monitor``: consumer-group lag from the broker's side, served for Prometheus."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from prometheus_client import CollectorRegistry

from exchange.cli import context
from exchange.errors import SettingsError
from exchange.operations.certificates import CertificateExpiry
from exchange.operations.health import OpsServer
from exchange.operations.monitor import LagMonitor
from exchange.operations.targets import announce

DEFAULT_PORT = 9308


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "monitor",
        help="serve every consumer group's lag (records and seconds) for Prometheus",
        description=(
            "Poll the cluster for every consumer group's committed offsets and every partition's "
            "offsets, and serve the lag in records and in seconds with kafka-lag-exporter's "
            "metric names on 127.0.0.1:PORT/metrics (and /healthz, /readyz), with the seconds "
            "until the CA, the client and each broker's TLS certificate expire. Connects as the "
            "principal given by EXCHANGE_KAFKA__USERNAME, else as the operators' principal "
            "(exchange.operators: Describe on the cluster, groups and topics, no record read). "
            "Stops on SIGTERM or Ctrl-C."
        ),
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"serve on 127.0.0.1:PORT (default {DEFAULT_PORT})")  # fmt: skip
    parser.add_argument("--interval", type=float, default=15.0, metavar="SECONDS",
                        help="poll the cluster every SECONDS (default 15)")  # fmt: skip
    parser.add_argument("--cluster-name", default="exchange",
                        help="the cluster_name label (default exchange)")  # fmt: skip
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    if not args.interval > 0:
        raise SettingsError("--interval", f"must be positive, got {args.interval}")
    registry = CollectorRegistry()
    kafka = context.kafka_as_agency(context.OPERATORS)
    monitor = LagMonitor(kafka, registry, cluster_name=args.cluster_name,
                         interval_s=args.interval)
    certificates = CertificateExpiry(kafka, registry)
    server = OpsServer(registry, monitor.not_ready, args.port).start()
    announce(context.settings().state_dir.resolve(), "exchange-monitor", server.port)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(f"lag monitor on http://127.0.0.1:{server.port}/metrics, polling every "
          f"{args.interval:g}s", flush=True)  # fmt: skip
    try:
        monitor.run(stop, also=certificates.refresh)
    finally:
        server.stop()
    return 0
