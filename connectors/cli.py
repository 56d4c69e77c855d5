"""``exchange connect run CONFIG``: run one connector (an adapter of an agency system).

``exchange connect check CONFIG`` only validates the file and names the adapter. The
connectors package adds this command to ``exchange`` itself: :func:`register` is the
``exchange.commands`` entry point (pyproject.toml) that ``exchange.cli.main`` loads, so the
library never imports the connectors.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from connectors.adapters.http_openapi import openapi_document
from connectors.adapters.webhook import write_new_secret
from connectors.registry import BUILTIN, connector_class, load_config
from connectors.sdk.base import ConnectorContext
from connectors.sdk.exceptions import ConnectorConfigError, ConnectorError
from exchange.cli import context, protection_cmd
from exchange.codec import EventCodec
from exchange.docsite import SiteData, build_site
from exchange.docsite.data import Connectors
from exchange.models.exceptions import FieldError
from exchange.models.registry import EVENTS
from exchange.operations.health import OpsServer
from exchange.operations.targets import announce
from exchange.protection.protected import ProtectedCodec
from exchange.protection.unprotected import Unprotected
from exchange.schemas.catalogue import Catalogue
from exchange.tls.pki import LocalPki


def register(commands: Any) -> None:
    connect = commands.add_parser(
        "connect",
        help="run a connector: bring an agency system's data onto the bus, or deliver it out",
        description=(
            "Connectors adapt agency systems to the bus. A TOML config names the adapter "
            f"(kind: {', '.join(BUILTIN)}, or module:Class for your own), the agency it acts "
            "for and its settings. See connectors/GUIDE.md."
        ),
    )
    actions = connect.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="run the connector until SIGTERM or Ctrl-C")
    run.add_argument("config", type=Path, metavar="CONFIG", help="the connector's TOML file")
    run.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics",
    )
    protection_cmd.add_unprotected_option(run)
    run.set_defaults(run=_run)
    check = actions.add_parser("check", help="validate a connector config and exit")
    check.add_argument("config", type=Path, metavar="CONFIG")
    check.set_defaults(run=_check)
    secret = actions.add_parser(
        "new-secret",
        help="make a webhook secret (whsec_<base64>, Standard Webhooks) in a new 0600 file",
        description=(
            "Writes a new random secret to FILE (which must not exist), readable by you only. "
            "Name FILE as secret_file in the webhook config, and give its one line to the "
            "receiving agency over a channel you both trust (in person, encrypted mail), never "
            "on the bus; they verify deliveries with any Standard Webhooks library."
        ),
    )
    secret.add_argument("file", type=Path, metavar="FILE")
    secret.set_defaults(run=_new_secret)


def _check(args: argparse.Namespace) -> int:
    cls, config = load_config(args.config)
    context.topology().agency(config.agency)
    print(f"{config.name}: {config.kind} ({cls.__module__}.{cls.__name__}) as {config.agency}")
    return 0


def _new_secret(args: argparse.Namespace) -> int:
    try:
        write_new_secret(args.file)
    except FileExistsError:
        raise ConnectorConfigError(
            args.file, [FieldError("", "file_exists", "choose a new file; none is overwritten")]
        ) from None
    print(f"{args.file}: new webhook secret; share its line with the receiving agency securely")
    return 0


def _run(args: argparse.Namespace) -> int:
    cls, config = load_config(args.config)
    topology = context.topology()
    topology.agency(config.agency)
    registry = CollectorRegistry()
    codec = EventCodec(Catalogue.load())
    made: dict[str, ProtectedCodec | Unprotected] = {}

    def protection_for(agency: str) -> ProtectedCodec | Unprotected:
        if agency not in made:
            made[agency] = protection_cmd.protection_for(
                codec, agency, unprotected=args.unprotected
            )
        return made[agency]

    protection_for(config.agency)  # its keys are missing: say so before connecting
    connector_context = ConnectorContext(
        kafka_for=context.kafka_as_agency,
        topology=topology,
        codec=codec,
        registry=registry,
        protection_for=protection_for,
        pki=LocalPki(context.settings().pki_dir.resolve(), context.settings().pki),
    )

    connector = cls(config, connector_context)
    port = args.metrics_port or config.metrics_port or context.settings().metrics_port
    server = None
    if port:  # /metrics, /healthz, /readyz (ready while it moves records)
        server = OpsServer(registry, connector.not_ready, port).start()
        announce(context.settings().state_dir.resolve(), "exchange-connector", server.port)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await connector.serve(stop)

    try:
        asyncio.run(main())
    finally:
        if server is not None:
            server.stop()
    return 0


def register_docs(commands: Any) -> None:
    """``exchange docs``: the integrators' documentation site, with the connectors' part
    (the gateway's OpenAPI document, the connectors' config reference) given to it."""
    parser = commands.add_parser(
        "docs",
        help="write the integrators' documentation site (HTML)",
        description=(
            "Generate a static HTML site from topology/, schemas/avro/ and the code: each "
            "agency's topics and why, each event's fields with docs, sensitivity tags and who "
            "may open them, validation rules and their errors, examples, the HTTP gateway's "
            "API, the connectors' configuration and the dead-letter and quarantine reasons; "
            "with the AsyncAPI documents. Open DIR/index.html in a browser."
        ),
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="folder to write the site into")
    parser.add_argument("--bootstrap", metavar="HOST:PORT[,...]",
                        help="bootstrap servers to name "
                        "(default: EXCHANGE_KAFKA__BOOTSTRAP_SERVERS)")
    parser.set_defaults(run=_docs)


def _docs(args: argparse.Namespace) -> int:
    bootstrap = args.bootstrap or context.settings().kafka.bootstrap_servers
    written = build_site(args.out, SiteData.load(bootstrap, site_connectors()))
    print(f"wrote {len(written)} files; open {args.out / 'index.html'}")
    return 0


def site_connectors() -> Connectors:
    """The connectors' part of the documentation site."""
    kinds: dict[str, tuple[str, type | str]] = {}
    for kind, target in BUILTIN.items():
        try:
            kinds[kind] = (target, connector_class(kind))
        except ConnectorError as error:
            kinds[kind] = (target, str(error))
    return Connectors(openapi=openapi_document(list(EVENTS)), kinds=kinds)
