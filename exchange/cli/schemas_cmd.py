"""``exchange schemas check|freeze``: the Avro data contracts."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from exchange.schemas.check import run_check
from exchange.schemas.freeze import freeze


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "schemas",
        help="check or publish the Avro schemas (schemas/avro/)",
        description=(
            "The Avro schemas in schemas/avro/ are the bus's data contracts. `check` proves that "
            "every schema parses, every pydantic model matches its schema, every published "
            "version is backward compatible with all earlier ones, and nothing is unpublished. "
            "`freeze` publishes changed schemas as new versions, refusing incompatible changes."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="verify parsing, model drift and compatibility")
    check.add_argument("--root", type=Path, default=None, help="schema folder (default: packaged)")
    check.set_defaults(run=_check)
    frz = actions.add_parser("freeze", help="publish changed schemas as new versions")
    frz.add_argument("--root", type=Path, default=None, help="schema folder (default: packaged)")
    frz.set_defaults(run=_freeze)


def _check(args: argparse.Namespace) -> int:
    result = run_check(args.root)
    for line in result.lines:
        print(line)
    print("schemas: OK" if result.ok else "schemas: FAILED")
    return 0 if result.ok else 1


def _freeze(args: argparse.Namespace) -> int:
    written = freeze(args.root)
    for path in written:
        print(f"published {path}")
    if not written:
        print("nothing to publish: every schema equals its latest published version")
    return 0
