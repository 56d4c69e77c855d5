"""The deadline schedule of the yearly reports: which runs are due, each written exactly once
(also across a restart and a crashed run), and the service loop on an injected clock."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from exchange.models.reporting import ReportLevel
from exchange.reports.collect import places_of
from exchange.reports.figures import CST, YearReport, build_report
from exchange.reports.flag_alerts import flag_alerts
from exchange.reports.schedule import (
    MANIFEST,
    ReportArchive,
    ReportRun,
    ScheduleMetrics,
    next_run,
    runs_due,
    serve,
)
from exchange.rules.jurisdiction import load_jurisdiction

MEMBER, DISTRICT = ReportLevel.MEMBER_UNIT, ReportLevel.DISTRICT_OFFICE


def empty_report(run: ReportRun) -> YearReport:
    return build_report(run.year, [], members=["health", "education"],
                        places=places_of(load_jurisdiction()), now=run.as_of)  # fmt: skip


def test_runs_fall_due_just_after_the_deadlines_in_xian_time() -> None:
    run = ReportRun(2026, MEMBER)
    assert run.deadline == datetime(2026, 12, 15, 23, 59, 59, tzinfo=CST)
    assert run.as_of == datetime(2026, 12, 16, tzinfo=CST)
    assert run.name == "2026-12-15-member-units"
    assert ReportRun(2026, DISTRICT).name == "2026-12-20-district-offices"
    assert runs_due(datetime(2026, 12, 15, 23, 59, 59, tzinfo=CST), 2026) == []
    assert runs_due(datetime(2026, 12, 16, tzinfo=CST), 2026) == [run]
    # 16:00 UTC on 15 December is already midnight in Xi'an.
    assert runs_due(datetime(2026, 12, 15, 16, tzinfo=CST.utc), 2026) == [run]
    assert runs_due(datetime(2027, 1, 2, tzinfo=CST), 2026) == [
        run, ReportRun(2026, DISTRICT),
    ]  # fmt: skip
    assert next_run(datetime(2026, 12, 17, tzinfo=CST)) == ReportRun(2026, DISTRICT)
    assert next_run(datetime(2026, 12, 21, tzinfo=CST)) == ReportRun(2027, MEMBER)


def test_a_run_is_written_once_and_a_crashed_one_left_no_half_report(tmp_path: Path) -> None:
    archive = ReportArchive(tmp_path)
    run = ReportRun(2026, MEMBER)
    crashed = tmp_path / "2026" / f".{run.name}.partial-dead"
    crashed.mkdir(parents=True)
    (crashed / "units.csv").write_text("half")
    assert archive.clean_partial() == [crashed]
    assert not crashed.exists()
    assert not archive.done(run)
    written = archive.write(run, empty_report(run), run.as_of)
    assert written == tmp_path / "2026" / "2026-12-15-member-units"
    assert archive.done(run)
    manifest = json.loads((written / MANIFEST).read_text())
    assert manifest["asOf"] == "2026-12-16T00:00:00+08:00"
    assert set(manifest["files"]) == {"units.csv", "districts.csv", "flags.csv", "report.html"}
    assert manifest["flags"] == 2  # health and education have not confirmed
    assert archive.write(run, empty_report(run), run.as_of) is None
    assert [p.name for p in (tmp_path / "2026").iterdir()] == [run.name]


def test_the_first_year_served_is_remembered(tmp_path: Path) -> None:
    assert ReportArchive(tmp_path).since_year(2026) == 2026
    assert ReportArchive(tmp_path).since_year(2027) == 2026


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def run_for(
    seconds: float, archive: ReportArchive, clock: FakeClock, made: list[ReportRun],
    *, fail: bool = False,
) -> list[str]:
    said: list[str] = []

    async def generate(run: ReportRun) -> YearReport:
        if fail:
            raise ConnectionError("bus unreachable")
        made.append(run)
        return empty_report(run)

    stop = asyncio.Event()
    metrics = ScheduleMetrics(CollectorRegistry())
    task = asyncio.create_task(serve(generate, archive, clock, since_year=2026, stop=stop,
                                     poll_s=0.01, metrics=metrics, say=said.append))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 1)
    return said


async def test_the_service_writes_each_deadline_once_across_restarts(tmp_path: Path) -> None:
    archive = ReportArchive(tmp_path)
    clock = FakeClock(datetime(2026, 12, 15, 23, 0, tzinfo=CST))
    made: list[ReportRun] = []
    assert await run_for(0.05, archive, clock, made) == []
    clock.now += timedelta(hours=1)  # the member units' deadline passes
    said = await run_for(0.1, archive, clock, made)
    assert made == [ReportRun(2026, MEMBER)]
    assert said == [f"2026 2026-12-15-member-units: wrote {tmp_path}/2026/2026-12-15-member-units "
                    "(2 flags)"]  # fmt: skip
    # Down over the district offices' deadline: caught up at the restart, once.
    clock.now = datetime(2027, 1, 5, tzinfo=CST)
    said = await run_for(0.1, archive, clock, made)
    assert made == [ReportRun(2026, MEMBER), ReportRun(2026, DISTRICT)]
    assert said[0].endswith("written before, in " + str(archive.directory(made[0])))
    flags = (archive.directory(made[1]) / "flags.csv").read_text()
    assert "DISTRICT_OFFICE" in flags
    assert "DISTRICT_OFFICE" not in (archive.directory(made[0]) / "flags.csv").read_text()
    await run_for(0.05, archive, clock, made)
    assert len(made) == 2


async def test_a_failed_run_is_retried_and_the_service_goes_on(tmp_path: Path) -> None:
    archive = ReportArchive(tmp_path)
    clock = FakeClock(datetime(2026, 12, 16, 8, tzinfo=CST))
    made: list[ReportRun] = []
    await run_for(0.05, archive, clock, made, fail=True)
    assert not archive.done(ReportRun(2026, MEMBER))
    await run_for(0.05, archive, clock, made)
    assert made == [ReportRun(2026, MEMBER)]


@pytest.mark.parametrize("level", list(ReportLevel))
def test_every_level_has_a_run_each_year(level: ReportLevel) -> None:
    assert ReportRun(2030, level) in runs_due(datetime(2031, 1, 1, tzinfo=CST), 2030)


def test_the_flags_of_a_run_become_alerts_to_the_office_and_the_unit() -> None:
    member, district = ReportRun(2026, MEMBER), ReportRun(2026, DISTRICT)
    alerts = flag_alerts(member, empty_report(member))
    assert sorted((a.alertId, a.subject, [t.agencyId for t in a.addressedTo]) for a in alerts) == [
        ("report-2026-MEMBER_UNIT-education", "education", ["joint-meeting-office", "education"]),
        ("report-2026-MEMBER_UNIT-health", "health", ["joint-meeting-office", "health"]),
    ]  # fmt: skip
    assert all(a.kind.value == "REPORT_NOT_CONFIRMED" for a in alerts)
    assert all(a.raisedAt == member.as_of for a in alerts)
    reason = "member unit health: yearly report 2026 not confirmed by the deadline"
    assert any(reason in a.reason for a in alerts)
    later = flag_alerts(district, empty_report(district))
    assert later  # the districts' flags only: the member units were alerted at their deadline
    assert all(a.subject.isdigit() and len(a.subject) == 6 for a in later)
    assert all([t.agencyId for t in a.addressedTo] == ["joint-meeting-office"] for a in later)
    assert flag_alerts(district, empty_report(district)) == later  # same ids when repeated


async def test_a_run_whose_alerts_fail_is_not_written_and_is_retried(tmp_path: Path) -> None:
    archive = ReportArchive(tmp_path)
    clock = FakeClock(datetime(2026, 12, 16, 8, tzinfo=CST))
    notified: list[ReportRun] = []
    failing = True

    async def notify(run: ReportRun, report: YearReport) -> None:
        if failing:
            raise ConnectionError("bus unreachable")
        notified.append(run)

    async def generate(run: ReportRun) -> YearReport:
        return empty_report(run)

    for attempt in range(2):
        stop = asyncio.Event()
        task = asyncio.create_task(serve(
            generate, archive, clock, since_year=2026, stop=stop, poll_s=0.01,
            metrics=ScheduleMetrics(CollectorRegistry()), say=lambda _: None, notify=notify,
        ))  # fmt: skip
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 1)
        if attempt == 0:
            assert not archive.done(ReportRun(2026, MEMBER))
            failing = False
    assert archive.done(ReportRun(2026, MEMBER))
    assert notified == [ReportRun(2026, MEMBER)]
