"""``exchange worker``: run the workflows (faust-streaming) as the workflows principal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from exchange.cli import context
from exchange.cli.protection_cmd import protected_codec
from exchange.codec import EventCodec
from exchange.operations.health import OpsServer, Readiness
from exchange.operations.targets import announce
from exchange.schemas.catalogue import Catalogue
from exchange.settings import KafkaSettings
from exchange.tls.kafka import explain
from exchange.workflows.runtime import AGENCY, WorkflowContext, WorkflowMetrics
from exchange.workflows.runtime.faust_patches import QuietWorker
from exchange.workflows.runtime.protection import WorkerProtection
from exchange.workflows.worker import build_worker_app


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "worker",
        help="run the workflows: sightings to the responsible police, missing-child alerts",
        description=(
            "Run the workflows as a faust-streaming worker, connected as the workflows principal: "
            "each transport sighting is dispatched to the one police unit responsible for the "
            "place (and, on a moving train, to the railway police at the next stop), with the "
            "rule that chose it and an acknowledgement deadline. Start several workers to share "
            "the partitions. A missing-minor report becomes a CAP 1.2 alert whose radius widens "
            "with time (100/200/300/500 km) until the case closes. Records it cannot use go to "
            "exchange.deadletter.workflows. Stops "
            "on SIGTERM or Ctrl-C."
        ),
    )
    parser.add_argument(
        "--replication", type=int, default=None, metavar="N",
        help="cap the replication of the worker's internal topics at N (1 for a single broker)",
    )
    parser.add_argument(
        "--metrics-port", type=int, default=None, metavar="PORT",
        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, metavar="DIR",
        help="where this worker keeps its table state (default <state>/worker); give each "
        "worker process on one machine its own",
    )
    parser.add_argument(
        "--time-scale", type=float, default=1.0, metavar="X",
        help="divide every workflow duration by X (60: a 5-minute deadline lasts 5 s); for "
        "demonstrations and tests only, default 1",
    )
    parser.add_argument(
        "--unprotected", action="store_true",
        help="INSECURE, for measurements only: read inputs unverified, send outputs unsigned and "
        "unsealed, keep table state in the clear; warns at every start. Without it (always, in "
        "production) the worker verifies and opens inputs as the workflows agency (unsigned, "
        "forged, tampered or replayed events go to exchange.quarantine.workflows, never acted "
        "on), seals and signs outputs, seals table state and audits deliveries and routing",
    )
    parser.add_argument(
        "--app-id", default=None, metavar="ID",
        help="faust app id, the consumer group and internal topics' prefix (default: "
        "EXCHANGE_WORKER__APP_ID, else workflows.main); an --unprotected worker must not share "
        "one with the others",
    )
    parser.add_argument(
        "--batch-max", type=int, default=500, metavar="N",
        help="a batched topic (the sightings) is handled up to N events at once (default 500)",
    )
    parser.add_argument(
        "--batch-within-ms", type=float, default=10.0, metavar="MS",
        help="... or what came within MS milliseconds (default 10: the latency a batch may add)",
    )
    parser.add_argument(
        "--loglevel", default="warn", choices=["crit", "error", "warn", "info", "debug"],
        help="faust's log level (default warn)",
    )
    parser.set_defaults(run=_run)


def _protection(codec: EventCodec, kafka: KafkaSettings) -> WorkerProtection:
    """Protected mode; its audit chain checkpointed and guarded by the audit settings, the
    notary's anchors read with ``kafka`` (the worker's own principal)."""
    protected = protected_codec(codec, AGENCY)
    return WorkerProtection(protected, protected.keys, context.topology(),
                            audit_settings=context.settings().audit, anchors=kafka)


def _readiness(app: Any) -> Readiness:
    """Ready once the worker's consumer has partitions assigned (read from the HTTP thread;
    a set's length is safe to read while the event loop changes it)."""

    def not_ready() -> str | None:
        try:
            assigned = len(app.consumer.assignment())
        except Exception:  # noqa: BLE001 - not started yet, or stopping: not ready
            return "the consumer is not running"
        return None if assigned else "no partitions assigned (joining the group)"

    return not_ready


def _run(args: argparse.Namespace) -> int:
    topology = context.topology()
    registry = CollectorRegistry()
    settings = context.settings().worker
    codec = EventCodec(Catalogue.load())
    if args.unprotected:
        print(
            "WARNING: INSECURE: exchange worker --unprotected: inputs are not verified (forged "
            "events are acted on), outputs and table state are neither sealed nor signed; never "
            "use it with real data", file=sys.stderr, flush=True,
        )
    kafka = context.kafka_as(topology.principal_of(AGENCY))
    problem = explain(kafka)  # faust retries a failed handshake forever: say why at once
    if problem is not None:
        raise problem
    workflow_context = WorkflowContext(
        codec=codec, topology=topology,
        metrics=WorkflowMetrics(registry), time_scale=args.time_scale,
        protection=None if args.unprotected else _protection(codec, kafka),
        batch_max=args.batch_max, batch_within=args.batch_within_ms / 1000,
    )
    app = build_worker_app(
        kafka, workflow_context,
        app_id=args.app_id or settings.app_id, replication_cap=args.replication,
        datadir=args.data_dir or context.settings().state_dir / "worker",
    )
    port = args.metrics_port or context.settings().metrics_port
    if port:
        OpsServer(registry, _readiness(app), port).start()  # /metrics, /healthz, /readyz
        announce(context.settings().state_dir.resolve(), "exchange-worker", port)
    QuietWorker(app, loglevel=args.loglevel, quiet=True).execute_from_commandline()
    return 0
