"""``exchange report``: the yearly report (Art. 12) from the events on the bus, as files."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exchange.cli import context, protection_cmd
from exchange.cli.report_service import run_service
from exchange.codec import EventCodec
from exchange.errors import SettingsError
from exchange.reports.collect import AGENCY, collect_report
from exchange.reports.render import write_report
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.schemas.catalogue import Catalogue


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "report",
        help="write the yearly report (CSV + HTML with charts) from the events on the bus",
        description=(
            "Read the year's events as the reports principal (cases, rescues, sightings and "
            "their acknowledgements, referrals, revocations, compliance alerts, confirmations) "
            "and write units.csv, districts.csv, flags.csv and report.html into --out. Member "
            "units that have not confirmed by 15 December, district offices by 20 December, "
            "are flagged once the deadline has passed (Art. 12). With --at-deadlines it runs "
            "as a service that writes each year's reports at the deadlines by itself, exactly "
            "once each, into --out/<year>/<date>-member-units and "
            "--out/<year>/<date>-district-offices (catching up after a restart)."
        ),
    )
    parser.add_argument("--year", type=int, default=None,
                        help="the year to report on (required without --at-deadlines)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--from", dest="start", type=datetime.fromisoformat, default=None,
                        help="only events from this ISO time (with offset) on")
    parser.add_argument("--to", dest="end", type=datetime.fromisoformat, default=None,
                        help="only events before this ISO time (with offset)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to read each topic to its end (default 60)")
    service = parser.add_argument_group("the deadline service (--at-deadlines)")
    service.add_argument("--at-deadlines", action="store_true",
                         help="run until stopped, writing each deadline's report once "
                         "(16 and 21 December, 00:00 Xi'an time)")
    service.add_argument("--since-year", type=int, default=None, metavar="YEAR",
                         help="first year to write reports for (default: the year of the "
                         "first start, remembered in DIR/schedule.json)")
    service.add_argument("--poll", type=float, default=60.0, metavar="SECONDS",
                         help="how often to look for a deadline passed (default 60)")
    service.add_argument("--clock-origin", type=datetime.fromisoformat, default=None,
                         metavar="ISO", help="start the service's clock at this time (with "
                         "offset); for demonstrations and tests only")
    service.add_argument("--time-scale", type=float, default=1.0, metavar="X",
                         help="run the service's clock X times faster; demonstrations and "
                         "tests only, default 1")
    service.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                         help="serve Prometheus metrics on 127.0.0.1:PORT/metrics")
    protection_cmd.add_unprotected_option(parser)
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    if args.at_deadlines:
        return run_service(args)
    if args.year is None:
        raise SettingsError("--year", "give the year to report on (or run --at-deadlines)")
    for name in ("start", "end"):
        when = getattr(args, name)
        if when is not None and when.tzinfo is None:
            raise SettingsError(f"--{'from' if name == 'start' else 'to'}",
                                "give the time with its offset, e.g. 2026-01-01T00:00+08:00")
    topology = context.topology()
    codec = EventCodec(Catalogue.load())
    protection = protection_cmd.protection_for(codec, AGENCY, unprotected=args.unprotected)
    report, undecodable = asyncio.run(collect_report(
        context.kafka_as_agency(AGENCY), codec, topology,
        load_jurisdiction(topology=topology), protection=protection, year=args.year,
        now=datetime.now(UTC), start=args.start, end=args.end, timeout_s=args.timeout,
    ))
    for path in write_report(report, args.out):
        print(f"wrote {path}")
    units = report.units.values()
    print(f"{args.year}: {sum(u.cases for u in units)} cases, "
          f"{sum(u.rescues for u in units)} rescues, "
          f"{sum(u.referrals_issued for u in units)} referrals "
          f"({sum(u.referrals_overdue for u in units)} overdue), {len(report.flags)} flags")
    if undecodable:
        print(f"({undecodable} undecodable or unverifiable records skipped)")
    return 0
