"""``exchange notary``, ``exchange tsa init|serve`` and ``exchange audit export|verify-bundle``.

The notary and the local TSA are long-running processes of the joint-meeting office; the TSA's
files live in ``<state>/tsa`` (:mod:`exchange.evidence.tsa_authority`). Production points the
notary at a real TSA (``EXCHANGE_NOTARY__TSA_URL``, ``EXCHANGE_NOTARY__TSA_CA_FILE``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import threading
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from exchange.cli import context
from exchange.errors import SettingsError
from exchange.evidence import bundle, bundle_kafka, notary
from exchange.evidence.guard import NOTARY_TOPIC
from exchange.evidence.metrics import EvidenceMetrics
from exchange.evidence.tsa import TsaClient
from exchange.evidence.tsa_authority import TsaServer, init_authority
from exchange.operations.health import OpsServer
from exchange.operations.targets import announce
from exchange.protection.audit import AUDIT_TOPIC
from exchange.protection.keys import FileKeyStore

OFFICE = "joint-meeting-office"


def _tsa_folder() -> Path:
    return context.settings().state_dir / "tsa"


def _keys() -> FileKeyStore:
    return FileKeyStore(context.settings().keys_dir)


def register(commands: Any) -> None:
    sub = commands.add_parser(
        "notary",
        help="time-stamp every audit chain's checkpoints (RFC 3161) in Merkle-tree anchors",
        description=(
            f"Reads {AUDIT_TOPIC} as the joint-meeting office, checks each checkpoint's "
            f"signature, and every interval writes an anchor to {NOTARY_TOPIC}: a Merkle tree "
            "over the new checkpoints and a TSA's time-stamp token over its root. Stops on "
            "SIGTERM/SIGINT after a last round."
        ),
    )
    context.add_agency_option(sub, required=False)
    sub.add_argument("--interval", type=float, help="seconds between anchors (settings: 60)")
    sub.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    sub.set_defaults(run=_notary)
    tsa = commands.add_parser(
        "tsa", help="the local RFC 3161 time-stamping authority (openssl ts) for development",
    )
    actions = tsa.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub = actions.add_parser("init", help="make the TSA's CA and certificate in <state>/tsa")
    sub.set_defaults(run=_tsa_init)
    sub = actions.add_parser(
        "serve", help="answer application/timestamp-query over HTTP until SIGTERM or SIGINT",
    )
    sub.add_argument("--port", type=int, default=31800)
    sub.set_defaults(run=_tsa_serve)


def add_audit_actions(actions: Any) -> None:
    """``exchange audit export`` and ``verify-bundle`` (the ``audit`` parser is
    :mod:`exchange.cli.protection_cmd`'s)."""
    sub = actions.add_parser(
        "export", help="write a case's disclosure bundle (ZIP) that anyone can verify offline"
    )
    sub.add_argument("case", metavar="CASE_ID", help="the case key (the events' ce_subject)")
    sub.add_argument("--out", type=Path, required=True, metavar="FILE")
    context.add_agency_option(sub, required=False)
    sub.add_argument("--events-as", metavar="AGENCY",
                     help="read the case's events (signatures, proofs) as this agency")
    sub.set_defaults(run=_export)
    sub = actions.add_parser("verify-bundle", help="check a disclosure bundle offline")
    sub.add_argument("file", type=Path, metavar="FILE")
    sub.add_argument("--keys", type=Path, metavar="DIR",
                     help="trusted public keys (a <state>/keys folder); default: the bundle's")
    sub.add_argument("--tsa-ca", type=Path, metavar="FILE",
                     help="the TSA's CA certificate; default: the bundle's copy")
    sub.set_defaults(run=_verify_bundle)


def _notary(args: argparse.Namespace) -> int:
    settings = context.settings()
    topology = context.topology()
    registry = CollectorRegistry()
    running = threading.Event()  # set while its loop runs (read from the HTTP thread)
    port = args.metrics_port or settings.metrics_port
    server = None
    if port:  # /metrics, /healthz, /readyz
        server = OpsServer(
            registry, lambda: None if running.is_set() else "not running", int(port)
        ).start()
        announce(settings.state_dir.resolve(), "exchange-notary", server.port)
    ca = settings.notary.tsa_ca_file or _tsa_folder() / "ca.pem"
    if not ca.exists():
        raise SettingsError("notary.tsa_ca_file", f"{ca} does not exist: run `exchange tsa init`")
    config = notary.NotaryConfig(
        interval_s=args.interval or settings.notary.interval_seconds,
        audit_partitions=topology.topic(AUDIT_TOPIC).partitions,
        notary_partitions=topology.topic(NOTARY_TOPIC).partitions,
    )
    core = notary.NotaryCore(_keys(), EvidenceMetrics.on(registry))
    tsa = TsaClient(settings.notary.tsa_url, ca_file=ca)
    kafka = context.kafka_as_agency(args.agency or OFFICE)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        print(f"notary: anchoring to {NOTARY_TOPIC} every {config.interval_s:g} s "
              f"with {settings.notary.tsa_url}")
        running.set()
        try:
            await notary.run(kafka, core, tsa, config, stop)
        finally:
            running.clear()

    try:
        asyncio.run(main())
    finally:
        if server is not None:
            server.stop()
    print(f"notary stopped; {len(core.anchored)} checkpoint(s) anchored")
    return 0


def _tsa_init(_args: argparse.Namespace) -> int:
    folder = init_authority(_tsa_folder())
    print(f"TSA files in {folder}; trust {folder / 'ca.pem'}")
    return 0


def _tsa_serve(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT. The handlers are installed here: a process started in the
    background by a shell without job control (``cmd &`` in a script, CI) inherits SIGINT
    ignored, and Python then raises no KeyboardInterrupt: ``tsa serve`` ignored its stop signal
    (seen in a CI run)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = TsaServer(_tsa_folder(), port=args.port).start()
    print(f"TSA at {server.url} (CA {server.ca_file})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    print(f"TSA stopped; {server.answered} time-stamp(s) issued")
    return 0


def _export(args: argparse.Namespace) -> int:
    topology = context.topology()
    settings = context.settings()
    disclosure = asyncio.run(bundle_kafka.gather(
        args.case,
        audit_settings=context.kafka_as_agency(args.agency or OFFICE),
        event_settings=context.kafka_as_agency(args.events_as) if args.events_as else None,
        keys=_keys(),
        tsa_folder=(settings.notary.tsa_ca_file.parent if settings.notary.tsa_ca_file
                    else _tsa_folder()),
        audit_partitions=topology.topic(AUDIT_TOPIC).partitions,
        notary_partitions=topology.topic(NOTARY_TOPIC).partitions,
    ))
    manifest = bundle.write_bundle(disclosure, args.out)
    records = sum(1 for rs in disclosure.chains.values() for r in rs if r.get("case") == args.case)
    print(f"{args.out}: {records} audit record(s) in {len(disclosure.chains)} chain(s), "
          f"{len(disclosure.events)} event(s), {len(manifest['files'])} file(s)")
    return 0


def _verify_bundle(args: argparse.Namespace) -> int:
    report = bundle.verify_bundle(args.file.read_bytes(), keys_dir=args.keys, tsa_ca=args.tsa_ca)
    for line in report.lines:
        print(line)
    for problem in report.problems:
        print(f"FAILED {problem}")
    if report.ok:
        print(f"the disclosure record of case {report.case} verifies")
        return 0
    return 1
