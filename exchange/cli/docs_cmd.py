"""``exchange docs``: the integrators' documentation site."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from exchange.cli import context
from exchange.docsite import SiteData, build_site


def register(commands: Any) -> None:
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
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    bootstrap = args.bootstrap or context.settings().kafka.bootstrap_servers
    written = build_site(args.out, SiteData.load(bootstrap))
    print(f"wrote {len(written)} files; open {args.out / 'index.html'}")
    return 0
