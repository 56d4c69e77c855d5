"""``exchange cases cold``: the ledger of unsolved child-trafficking cases as an investigator
reads it (overdue reviews first, each case's leads since its last review). Times in the text
are Beijing time with the zone named (:func:`exchange.local_time.human_time`); ``--json`` keeps
RFC 3339."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from exchange.cli import context, protection_cmd
from exchange.client.snapshot import read_snapshot
from exchange.codec import EventCodec
from exchange.local_time import human_time
from exchange.models.cold_cases import ColdCase
from exchange.rules.cold_cases import investigator_view, leads_since_review
from exchange.schemas.catalogue import Catalogue

LEDGER_TOPIC = "exchange.cold-case"


def register(commands: Any) -> None:
    parser = commands.add_parser("cases", help="read the case ledgers")
    kinds = parser.add_subparsers(dest="ledger", required=True, metavar="LEDGER")
    cold = kinds.add_parser(
        "cold", help="the ledger of unsolved child-trafficking cases (积案信息台账)",
        description=(
            "Read the cold-case ledger (exchange.cold-case, kept by the workflows) to its end "
            "and print the open cold cases: overdue reviews first, then by next review due; "
            "each with its unit, chief, last review and the leads since. Reads as the "
            "joint-meeting office unless --as names a police agency."
        ),
    )
    context.add_agency_option(cold, required=False)
    cold.add_argument("--unit", metavar="U", help="only the cases of this unit or agency id")
    cold.add_argument("--json", action="store_true", help="print the cases as JSON")
    cold.add_argument("--timeout", type=float, default=30.0,
                      help="seconds to read the ledger to its end (default 30)")
    protection_cmd.add_unprotected_option(cold)
    cold.set_defaults(run=_run)


def _line(case: ColdCase, now: datetime) -> str:
    overdue = case.reviewOverdue or case.nextReviewDue < now
    last = human_time(case.lastReviewAt) if case.lastReviewAt else "never"
    unit = case.unit.unitId or case.unit.agencyId
    head = (f"{'OVERDUE ' if overdue else ''}{case.caseId}  {unit}"
            f"  chief: {case.chief}\n    last review {last}, next due "
            f"{human_time(case.nextReviewDue)}, {case.reviews} reviews")
    leads = [f"    + {human_time(lead.at)} {lead.kind.value} {lead.ref}: {lead.summary}"
             for lead in leads_since_review(case)]
    return "\n".join([head, *leads])


def _run(args: argparse.Namespace) -> int:
    reader = args.agency or "joint-meeting-office"
    codec = EventCodec(Catalogue.load())
    protection = protection_cmd.protection_for(codec, reader, unprotected=args.unprotected)
    snapshot = asyncio.run(read_snapshot(
        context.kafka_as_agency(reader), codec, LEDGER_TOPIC, agency=reader, protection=protection,
        partitions=context.topology().topic(LEDGER_TOPIC).partitions, timeout_s=args.timeout,
    ))
    latest = {e.event.caseId: e.event for e in snapshot.events if isinstance(e.event, ColdCase)}
    now = datetime.now(UTC)
    cases = investigator_view(latest.values(), now, args.unit)
    if args.json:
        print(json.dumps([
            {**c.model_dump(mode="json"),
             "overdue": c.reviewOverdue or c.nextReviewDue < now,
             "leadsSinceReview": [lead.model_dump(mode="json") for lead in leads_since_review(c)]}
            for c in cases
        ], ensure_ascii=False, indent=2))
    else:
        print("\n".join(_line(c, now) for c in cases) if cases else "no open cold cases")
    if snapshot.undecodable:
        print(f"({snapshot.undecodable} undecodable records skipped)")
    for reason, count in sorted(snapshot.refused.items()):
        print(f"({count} records refused by verification: {reason})")
    return 0
