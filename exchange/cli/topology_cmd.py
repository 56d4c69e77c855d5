"""``exchange topology plan|apply``: make the cluster match ``topology/``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from exchange.broker.config import ADMIN_PRINCIPAL
from exchange.cli import context
from exchange.topology.apply import apply_topology, plan_against_cluster


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "topology",
        help="diff or apply topics, configs, SCRAM users and ACLs from topology/",
        description=(
            "topology/ describes agencies (each a SCRAM principal), topics (owner, readers, "
            "partitions, retention) and derives least-privilege ACLs. `plan` shows what differs "
            "on the live cluster; `apply` makes it match, idempotently. `plan` also lists every "
            "migration exception of trust.toml (unsigned events accepted on a topic or from a "
            "source until a date). Runs as the admin principal. New agency passwords go to "
            "<state>/credentials/<principal> (mode 0600)."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, helptext, run in (
        ("plan", "show the changes apply would make (changes nothing)", _plan),
        ("apply", "create/alter topics, users and ACLs so the cluster matches", _apply),
    ):
        sub = actions.add_parser(name, help=helptext, description=helptext)
        sub.add_argument(
            "--replication", type=int, default=None, metavar="N",
            help="cap replication factor and min.insync.replicas at N (1 for a single broker)",
        )
        sub.add_argument(
            "--detail", action="store_true",
            help="list every change (apply lists counts by kind unless this is given)",
        )
        sub.set_defaults(run=run)


def _plan(args: argparse.Namespace) -> int:
    plan = plan_against_cluster(
        context.topology(), context.kafka_as(ADMIN_PRINCIPAL), args.replication
    )
    print(plan.render())
    print(context.trust().render(datetime.now(UTC).date()))
    return 0


def _apply(args: argparse.Namespace) -> int:
    result = apply_topology(
        context.topology(), context.kafka_as(ADMIN_PRINCIPAL), context.credentials(),
        args.replication,
    )
    print(result.render(detail=args.detail))
    return 0
