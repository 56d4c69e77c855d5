"""``exchange referrals``: the referral board, open and overdue referrals per agency."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from exchange.cli import context, protection_cmd
from exchange.client.snapshot import read_snapshot
from exchange.codec import EventCodec
from exchange.models.referrals import ReferralState
from exchange.rules.referral_board import build_board, render
from exchange.schemas.catalogue import Catalogue

BOARD_TOPIC = "exchange.referral-board"


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "referrals",
        help="show open and overdue referrals per agency (the referral board)",
        description=(
            "Read the referral board (exchange.referral-board, kept by the workflows) to its "
            "current end and print, per agency, how many referrals are open, overdue, escalated "
            "to the joint-meeting office, completed, declined and transferred; then each open "
            "referral with its due time. Reads as the joint-meeting office by default."
        ),
    )
    context.add_agency_option(parser, required=False)
    parser.add_argument("--agency", dest="only", metavar="AGENCY",
                        help="only the referrals addressed to this agency")
    parser.add_argument("--summary", action="store_true", help="the table only, no details")
    parser.add_argument("--json", action="store_true", help="print the board as JSON")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to read the board to its end (default 30)")
    protection_cmd.add_unprotected_option(parser)
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    reader = args.agency or "joint-meeting-office"
    codec = EventCodec(Catalogue.load())
    protection = protection_cmd.protection_for(codec, reader, unprotected=args.unprotected)
    snapshot = asyncio.run(read_snapshot(
        context.kafka_as_agency(reader), codec, BOARD_TOPIC, agency=reader, protection=protection,
        partitions=context.topology().topic(BOARD_TOPIC).partitions, timeout_s=args.timeout,
    ))
    states = [e.event for e in snapshot.events if isinstance(e.event, ReferralState)]
    if args.only:
        states = [s for s in states if s.toAgency.agencyId == args.only]
    board = build_board(states, datetime.now(UTC))
    if args.json:
        print(json.dumps({
            "agencies": [
                {"agency": line.agency, "open": line.open, "overdue": line.overdue,
                 "escalated": line.escalated,
                 "oldestDue": line.oldest_due.isoformat() if line.oldest_due else None,
                 **{status.value.lower(): n for status, n in line.done.items()}}
                for line in board.lines
            ],
            "open": [s.model_dump(mode="json") for s in board.open_referrals],
        }, ensure_ascii=False, indent=2))
    else:
        names = {a.id: a.name_zh for a in context.topology().agencies}
        print(render(board, details=not args.summary, names=names))
    if snapshot.undecodable:
        print(f"({snapshot.undecodable} undecodable records skipped)")
    for reason, count in sorted(snapshot.refused.items()):
        print(f"({count} records refused by verification: {reason})")
    return 0
