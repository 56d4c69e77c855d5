"""The yearly reports made at the deadlines of the rules, exactly once each (Art. 12).

Two runs a year: just after 15 December (end of day, Xi'an time), when member units must have
confirmed, and just after 20 December, when district offices must have. Each run's report is
*as of its deadline*: the year's events put on the bus up to that moment, and the flags of every
deadline passed by then, so a run made late (the service was down) writes the same figures as one
made on time.

The reports directory is the state: a run is done when
``<root>/<year>/<yyyy-mm-dd>-<member-units|district-offices>/manifest.json`` exists. A run is
written into a hidden ``.partial`` folder first and renamed into place (atomic on one file
system), so a crash leaves no half report, a restart does what is missing, and a second service
on the same directory loses the rename instead of writing twice. ``schedule.json`` remembers
the first year served, so a service that was down over a deadline catches up after a restart.

:func:`serve` is the loop (an injected clock, e.g. :class:`exchange.clock.ScaledClock`
for a demonstration or test, and an injected ``generate``); :mod:`exchange.cli.report_cmd` runs it
as ``exchange report --at-deadlines``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter

from exchange.models.reporting import ReportLevel
from exchange.reports.figures import CST, YearReport, deadline
from exchange.reports.render import write_report

__all__ = ["MANIFEST", "ReportArchive", "ReportRun", "ScheduleMetrics", "next_run", "runs_due",
           "serve"]  # fmt: skip

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
STATE = "schedule.json"
_SLUG = {ReportLevel.MEMBER_UNIT: "member-units", ReportLevel.DISTRICT_OFFICE: "district-offices"}


@dataclass(frozen=True)
class ReportRun:
    """One deadline's report: ``as_of`` is the first second after the deadline."""

    year: int
    level: ReportLevel

    @property
    def deadline(self) -> datetime:
        return deadline(self.year, self.level)

    @property
    def as_of(self) -> datetime:
        return self.deadline + timedelta(seconds=1)

    @property
    def name(self) -> str:
        return f"{self.deadline.astimezone(CST).date().isoformat()}-{_SLUG[self.level]}"


def _runs(since_year: int, until_year: int) -> Iterator[ReportRun]:
    for year in range(since_year, until_year + 1):
        runs = [ReportRun(year, level) for level in ReportLevel]
        yield from sorted(runs, key=lambda r: r.deadline)


def runs_due(now: datetime, since_year: int) -> list[ReportRun]:
    """Every run from ``since_year`` on whose deadline has passed at ``now``, oldest first."""
    return [r for r in _runs(since_year, now.astimezone(CST).year) if now >= r.as_of]


def next_run(now: datetime) -> ReportRun:
    """The first run whose deadline has not passed at ``now``."""
    year = now.astimezone(CST).year
    return next(r for r in _runs(year, year + 1) if now < r.as_of)


class ReportArchive:
    """The reports directory: which runs are written, and writing one exactly once."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def directory(self, run: ReportRun) -> Path:
        return self.root / str(run.year) / run.name

    def done(self, run: ReportRun) -> bool:
        return (self.directory(run) / MANIFEST).is_file()

    def since_year(self, default: int) -> int:
        """The first year served (remembered from the first start, else ``default``)."""
        state = self.root / STATE
        if state.is_file():
            return int(json.loads(state.read_text())["sinceYear"])
        self.root.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"sinceYear": default}) + "\n")
        return default

    def clean_partial(self) -> list[Path]:
        """Remove what a crashed run left (hidden ``.partial`` folders); returns them."""
        left = sorted(self.root.glob("*/.*.partial-*"))
        for path in left:
            shutil.rmtree(path, ignore_errors=True)
        return left

    def write(self, run: ReportRun, report: YearReport, generated_at: datetime) -> Path | None:
        """Write the run's report; None when it was already there (another service won)."""
        final = self.directory(run)
        if self.done(run):
            return None
        partial = final.parent / f".{run.name}.partial-{uuid.uuid4().hex[:8]}"
        files = write_report(report, partial)
        (partial / MANIFEST).write_text(json.dumps({
            "year": run.year, "level": run.level.value,
            "deadline": run.deadline.isoformat(), "asOf": run.as_of.isoformat(),
            "generatedAt": generated_at.isoformat(), "files": [p.name for p in files],
            "flags": len(report.flags),
        }, indent=2) + "\n")  # fmt: skip
        try:
            partial.rename(final)
        except OSError:  # the final folder exists: written by another service meanwhile
            shutil.rmtree(partial, ignore_errors=True)
            if self.done(run):
                return None
            raise
        return final


class ScheduleMetrics:
    """The report service's metrics, on the injected registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.written = Counter(
            "exchange_reports_written_total", "Yearly reports written at a deadline, by level.",
            ["level"], registry=registry,
        )  # fmt: skip
        self.flags = Counter(
            "exchange_report_flags_total",
            "Units flagged in the reports written (not confirmed, or confirmed late), by level.",
            ["level"], registry=registry,
        )
        self.failures = Counter(
            "exchange_report_failures_total",
            "Report runs that failed (e.g. the bus unreachable); retried at the next poll.",
            registry=registry,
        )


Generate = Callable[[ReportRun], Awaitable[YearReport]]
Notify = Callable[[ReportRun, YearReport], Awaitable[None]]
"""Told of a run's report before it is written (e.g. to send its flags as alerts): a run whose
notification fails is not written, and both are tried again at the next poll."""


async def serve(
    generate: Generate, archive: ReportArchive, clock: Callable[[], datetime], *,
    since_year: int, stop: asyncio.Event, poll_s: float, metrics: ScheduleMetrics,
    say: Callable[[str], None] = print, notify: Notify | None = None,
) -> None:
    """Until ``stop`` is set: every ``poll_s`` seconds, write each run that is due and not yet
    written. A run that fails is retried at the next poll; the loop goes on."""
    for path in archive.clean_partial():
        say(f"removed an unfinished run: {path}")
    for run in runs_due(clock(), since_year):
        if archive.done(run):
            say(f"{run.year} {run.name}: written before, in {archive.directory(run)}")
    while not stop.is_set():
        for run in runs_due(clock(), since_year):
            if archive.done(run):
                continue
            try:
                report = await generate(run)
                if notify is not None:
                    await notify(run, report)
                written = archive.write(run, report, clock())
            except Exception as error:  # noqa: BLE001 - retried at the next poll
                metrics.failures.inc()
                log.warning("report %s %s failed (%s: %s); retrying in %.0f s", run.year,
                            run.name, type(error).__name__, error, poll_s)  # fmt: skip
                break
            if written is not None:
                metrics.written.labels(run.level.value).inc()
                for flag in report.flags:
                    metrics.flags.labels(flag.level.value).inc()
                say(f"{run.year} {run.name}: wrote {written} ({len(report.flags)} flags)")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll_s)
