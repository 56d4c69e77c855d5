"""``exchange doctor``: check the cluster, the topology, the workers, dead letters and
quarantine, and print a verdict (see :mod:`exchange.operations.doctor`)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from exchange.cli import context
from exchange.errors import SettingsError
from exchange.operations.doctor import Doctor, as_json, render, verdict


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "doctor",
        help="check the whole bus and print a verdict (exit 1 on a failure)",
        description="Check the cluster (reachable, controller, partitions), the topology (plan "
        "empty), the workflow consumer groups (workers alive with partitions, lag), and the "
        "dead-letter and quarantine topics (records since --since), as the operators' "
        "principal (exchange.operators: describes, reads no record). "
        "Exit 0 when nothing fails (warnings allowed), 1 otherwise.",
    )
    parser.add_argument("--since", type=datetime.fromisoformat, default=None, metavar="TIME",
                        help="count dead letters and quarantined records written since TIME "
                        "(ISO 8601 with offset; default: one hour ago)")  # fmt: skip
    parser.add_argument("--replication", type=int, default=None, metavar="N",
                        help="plan with replication capped at N (1: one broker)")
    parser.add_argument("--max-lag", type=int, default=1000, metavar="RECORDS",
                        help="warn above this many records behind (default 1000)")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    since = args.since or datetime.now(UTC) - timedelta(hours=1)
    if since.tzinfo is None:
        raise SettingsError("--since", "give the time with its offset, e.g. 2026-12-06T08:00+08:00")
    checks = Doctor(
        context.kafka_as_agency(context.OPERATORS), context.topology(), since=since,
        replication_cap=args.replication, max_lag=args.max_lag,
    ).run()
    print(json.dumps(as_json(checks), indent=2) if args.json else render(checks))
    return 1 if verdict(checks) == "fail" else 0
