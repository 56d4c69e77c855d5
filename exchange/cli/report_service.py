"""``exchange report --at-deadlines``: the yearly reports written at the deadlines, by a service
(:func:`exchange.reports.schedule.serve`) reading the bus as the reports principal."""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from exchange.cli import context, protection_cmd
from exchange.client.publisher import Publisher
from exchange.clock import Clock, ScaledClock, system_clock
from exchange.codec import EventCodec
from exchange.errors import SettingsError
from exchange.metrics import BusMetrics
from exchange.operations.health import OpsServer
from exchange.operations.targets import announce
from exchange.reports.collect import AGENCY, collect_report
from exchange.reports.figures import CST, YearReport
from exchange.reports.flag_alerts import INBOX_PREFIX, flag_alerts
from exchange.reports.schedule import ReportArchive, ReportRun, ScheduleMetrics, serve
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.schemas.catalogue import Catalogue

__all__ = ["run_service"]


def _clock(args: argparse.Namespace) -> Clock:
    origin: datetime | None = args.clock_origin
    if origin is not None and origin.tzinfo is None:
        raise SettingsError("--clock-origin", "give the time with its offset, e.g. "
                            "2026-12-15T23:59:00+08:00")  # fmt: skip
    if not args.time_scale > 0:
        raise SettingsError("--time-scale", f"must be positive, got {args.time_scale}")
    if origin is None and args.time_scale == 1.0:
        return system_clock
    return ScaledClock(origin or datetime.now(UTC), args.time_scale)


def run_service(args: argparse.Namespace) -> int:
    if args.year is not None or args.start is not None or args.end is not None:
        raise SettingsError("--at-deadlines", "the service reports each year up to each "
                            "deadline; --year, --from and --to are for a single report")
    if not args.poll > 0:
        raise SettingsError("--poll", f"must be positive, got {args.poll}")
    clock = _clock(args)
    topology = context.topology()
    settings = context.kafka_as_agency(AGENCY)
    codec = EventCodec(Catalogue.load())
    protection = protection_cmd.protection_for(codec, AGENCY, unprotected=args.unprotected)
    jurisdiction = load_jurisdiction(topology=topology)
    registry = CollectorRegistry()
    metrics = ScheduleMetrics(registry)
    connected = asyncio.Event()  # set once its publisher is connected (read from the HTTP thread)
    port = args.metrics_port or context.settings().metrics_port
    server = None
    if port:  # /metrics, /healthz, /readyz
        server = OpsServer(
            registry, lambda: None if connected.is_set() else "not connected to the bus", port
        ).start()
        announce(context.settings().state_dir.resolve(), "exchange-report", server.port)
    archive = ReportArchive(args.out)
    since = archive.since_year(args.since_year or clock().astimezone(CST).year)
    if args.since_year is not None and args.since_year != since:
        raise SettingsError("--since-year", f"{args.out} already serves reports since {since}")

    async def generate(run: ReportRun) -> YearReport:
        report, undecodable = await collect_report(
            settings, codec, topology, jurisdiction, protection=protection, year=run.year,
            now=run.as_of, end=run.as_of, timeout_s=args.timeout,
        )
        if undecodable:
            print(f"({undecodable} undecodable or unverifiable records skipped)")
        return report

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        print(f"writing the reports of {since} on at their deadlines into {args.out}", flush=True)
        async with Publisher(
            settings, codec, topology, agency=AGENCY, source=f"/agencies/{AGENCY}/deadlines",
            metrics=BusMetrics.on(registry), protection=protection,
        ) as publisher:
            connected.set()

            async def notify(run: ReportRun, report: YearReport) -> None:
                for alert in flag_alerts(run, report):
                    for to in dict.fromkeys(ref.agencyId for ref in alert.addressedTo):
                        await publisher.publish(
                            alert, topic=f"{INBOX_PREFIX}{to}", id=alert.alertId
                        )

            await serve(generate, archive, clock, since_year=since, stop=stop,
                        poll_s=args.poll, metrics=metrics, notify=notify,
                        say=lambda line: print(line, flush=True))  # fmt: skip

    try:
        asyncio.run(main())
    finally:
        if server is not None:
            server.stop()
    return 0
