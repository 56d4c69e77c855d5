"""``exchange asyncapi``: the AsyncAPI 3.0 document of the bus or of one agency."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from exchange.asyncapi import build_document
from exchange.asyncapi.parser import check_documents
from exchange.cli import context
from exchange.schemas.catalogue import Catalogue


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "asyncapi",
        help="write the AsyncAPI 3.0 document of the bus (or of one agency)",
        description=(
            "Generate the AsyncAPI 3.0 description of the bus from topology/ and schemas/avro/: "
            "servers (TLS + SCRAM-SHA-512), one channel per topic with its Kafka bindings, one "
            "message per event type with its Avro schema, CloudEvents headers, key and example, "
            "and each agency's send/receive operations from the broker's ACLs. With --agency, "
            "only what that agency may do."
        ),
    )
    parser.add_argument("--agency", metavar="AGENCY", help="only this agency's channels and "
                        "operations (an id of topology/agencies.toml)")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="where to write the document (JSON)")
    parser.add_argument("--bootstrap", metavar="HOST:PORT[,...]",
                        help="bootstrap servers to name "
                        "(default: EXCHANGE_KAFKA__BOOTSTRAP_SERVERS)")
    parser.add_argument("--check", action="store_true", help="then validate it with the AsyncAPI "
                        "parser (needs node and `npm ci` in exchange/asyncapi/validator)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    topology = context.topology()
    if args.agency is not None:
        topology.agency(args.agency)  # unknown id: a clear error listing the known ones
    bootstrap = args.bootstrap or context.settings().kafka.bootstrap_servers
    document = build_document(topology, Catalogue.load(), bootstrap, args.agency)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"wrote {args.out}: {len(document['channels'])} channels, "
          f"{len(document['operations'])} operations")
    if args.check:
        for report in check_documents([args.out]):
            print(f"{report.file}: valid AsyncAPI {document['asyncapi']}"
                  f" ({len(report.warnings)} warnings)")
    return 0
