"""``exchange report --at-deadlines`` against the real broker, on a compressed clock: the member
units' report written just after 15 December and the district offices' just after 20 December,
each once, with the units that have not confirmed flagged in the files and alerted on the bus;
a restart writes and sends nothing again."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from exchange.codec import EventCodec
from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert
from exchange.models.reporting import ReportConfirmation, ReportLevel
from exchange.reports.figures import CST
from tests.workflows.test_referrals_broker import collect, publish

pytestmark = pytest.mark.broker

REPO = Path(__file__).resolve().parents[2]


def start_service(provisioned: Any, out: Path, origin: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent),
    }
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "exchange.cli.main", "report", "--at-deadlines",
             "--out", str(out), "--clock-origin", origin, "--time-scale", "100000",
             "--poll", "0.2", "--timeout", "20"],
            env=env, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip


def stop(service: subprocess.Popen[bytes]) -> int:
    service.send_signal(signal.SIGTERM)
    try:
        return service.wait(15)
    except subprocess.TimeoutExpired:
        service.kill()
        service.wait()
        pytest.fail("the report service did not stop within 15 s of SIGTERM")


def wait_for(paths: list[Path], service: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while not all(p.is_file() for p in paths):
        if service.poll() is not None or time.monotonic() > deadline:
            if service.poll() is None:
                stop(service)
            pytest.fail(f"reports not written: {[str(p) for p in paths]}\n{log.read_text()}")
        time.sleep(0.2)


def said_twice(log: Path, text: str) -> None:
    deadline = time.monotonic() + 60
    while log.read_text().count(text) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)


def flagged(path: Path) -> dict[str, str]:
    return {row["who"]: row["level"] for row in csv.DictReader(path.read_text().splitlines())}


async def test_reports_written_at_the_deadlines_once(
    provisioned: Any, codec: EventCodec, tmp_path: Path
) -> None:
    year = datetime.now(CST).year
    now = datetime.now(UTC)
    await publish(provisioned, codec, "health", ReportConfirmation(
        year=year, level=ReportLevel.MEMBER_UNIT, agency=AgencyRef(agencyId="health"),
        confirmedAt=now))  # fmt: skip
    await publish(provisioned, codec, "joint-meeting-office", ReportConfirmation(
        year=year, level=ReportLevel.DISTRICT_OFFICE, regionCode="610113",
        agency=AgencyRef(agencyId="joint-meeting-office"), confirmedAt=now))  # fmt: skip
    out, log = tmp_path / "reports", tmp_path / "service.log"
    member = out / str(year) / f"{year}-12-15-member-units"
    district = out / str(year) / f"{year}-12-20-district-offices"

    # Scenario time starts 30 s before the member units' deadline and runs x100000: the
    # district offices' deadline, five days later, comes about 4.3 s later.
    service = start_service(provisioned, out, f"{year}-12-15T23:59:30+08:00", log)
    try:
        wait_for([member / "manifest.json", district / "manifest.json"], service, log)
    finally:
        assert stop(service) == 0
    members = flagged(member / "flags.csv")
    assert "health" not in members
    assert members["cyberspace"] == "MEMBER_UNIT"  # no confirmation on the bus
    assert set(members.values()) == {"MEMBER_UNIT"}  # 20 December had not passed yet
    districts = flagged(district / "flags.csv")
    assert not [who for who in districts if who.startswith("610113 ")]
    assert districts["610102 新城区 Xincheng"] == "DISTRICT_OFFICE"
    assert districts["cyberspace"] == "MEMBER_UNIT"
    assert "<svg" in (district / "report.html").read_text()
    assert "health" in (member / "units.csv").read_text()
    written = {p: p.read_text() for p in (member / "manifest.json", district / "manifest.json")}
    said = log.read_text()
    assert said.count(": wrote ") == 2, said

    # Restarted after both deadlines: nothing is written again.
    service = start_service(provisioned, out, f"{year}-12-22T09:00:00+08:00", log)
    try:
        said_twice(log, "written before")
        await asyncio.sleep(1)  # a few polls
    finally:
        assert stop(service) == 0
    said = log.read_text()
    assert said.count("written before") == 2, said
    assert said.count(": wrote ") == 2, said
    assert {p: p.read_text() for p in written} == written
    assert sorted(p.name for p in (out / str(year)).iterdir()) == [member.name, district.name]
    await alerted_once(provisioned, codec, year, members, districts)


async def alerted_once(
    provisioned: Any, codec: EventCodec, year: int, members: dict[str, str],
    districts: dict[str, str],
) -> None:
    """The flags reached the units and the joint-meeting office as compliance alerts, once each
    (the restart sent nothing again)."""

    def raw(record: Any) -> bool:
        return dict(record.headers).get("ce_id", b"").startswith(f"report-{year}-".encode())

    to_unit = await collect(provisioned, codec, "exchange.compliance.to.cyberspace", None, raw,
                            until=lambda f: False, timeout_s=5)  # fmt: skip
    assert [dict(r.headers)["ce_id"] for r in to_unit] == [
        f"report-{year}-MEMBER_UNIT-cyberspace".encode()
    ]
    [alert] = [provisioned.open_as("cyberspace", r).event for r in to_unit]
    assert isinstance(alert, ComplianceAlert)
    assert alert.kind.value == "REPORT_NOT_CONFIRMED"
    assert "not confirmed by the deadline" in alert.reason
    office = await collect(
        provisioned, codec, "exchange.compliance.to.joint-meeting-office",
        "joint-meeting-office",
        lambda e: isinstance(e, ComplianceAlert) and e.alertId.startswith(f"report-{year}-"),
        until=lambda f: False, timeout_s=5,
    )
    ids = [a.alertId for a in office]
    assert len(ids) == len(set(ids))
    assert f"report-{year}-MEMBER_UNIT-cyberspace" in ids
    assert f"report-{year}-DISTRICT_OFFICE-610102" in ids
    assert f"report-{year}-MEMBER_UNIT-health" not in ids
    assert f"report-{year}-DISTRICT_OFFICE-610113" not in ids
    assert len(ids) == len(members) + len(
        [who for who, level in districts.items() if level == "DISTRICT_OFFICE"]
    )
