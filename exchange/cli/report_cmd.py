"""``exchange report``: the yearly report (Art. 12) from the events on the bus, as files."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exchange.cli import context
from exchange.codec import EventCodec
from exchange.errors import SettingsError
from exchange.reports.collect import AGENCY, collect_report
from exchange.reports.render import write_report
from exchange.schemas.catalogue import Catalogue
from exchange.workflows.jurisdiction import load_jurisdiction


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "report",
        help="write the yearly report (CSV + HTML with charts) from the events on the bus",
        description=(
            "Read the year's events as the reports principal (cases, rescues, sightings and "
            "their acknowledgements, referrals, revocations, compliance alerts, confirmations) "
            "and write units.csv, districts.csv, flags.csv and report.html into --out. Member "
            "units that have not confirmed by 15 December, district offices by 20 December, "
            "are flagged once the deadline has passed (Art. 12). Run it at each deadline (e.g. "
            "from cron on 16 and 21 December) and whenever the office wants the figures."
        ),
    )
    parser.add_argument("--year", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--from", dest="start", type=datetime.fromisoformat, default=None,
                        help="only events from this ISO time (with offset) on")
    parser.add_argument("--to", dest="end", type=datetime.fromisoformat, default=None,
                        help="only events before this ISO time (with offset)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to read each topic to its end (default 60)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    for name in ("start", "end"):
        when = getattr(args, name)
        if when is not None and when.tzinfo is None:
            raise SettingsError(f"--{'from' if name == 'start' else 'to'}",
                                "give the time with its offset, e.g. 2026-01-01T00:00+08:00")
    topology = context.topology()
    report, undecodable = asyncio.run(collect_report(
        context.kafka_as_agency(AGENCY), EventCodec(Catalogue.load()), topology,
        load_jurisdiction(topology=topology), year=args.year, now=datetime.now(UTC),
        start=args.start, end=args.end, timeout_s=args.timeout,
    ))
    for path in write_report(report, args.out):
        print(f"wrote {path}")
    units = report.units.values()
    print(f"{args.year}: {sum(u.cases for u in units)} cases, "
          f"{sum(u.rescues for u in units)} rescues, "
          f"{sum(u.referrals_issued for u in units)} referrals "
          f"({sum(u.referrals_overdue for u in units)} overdue), {len(report.flags)} flags")
    if undecodable:
        print(f"({undecodable} undecodable records skipped)")
    return 0
