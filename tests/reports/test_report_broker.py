"""``exchange report`` against the real broker with a running worker: the figures of a period
equal the events published in it (and the referrals the worker made of them)."""

from __future__ import annotations

import csv
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from exchange.client.snapshot import read_snapshot
from exchange.codec import EventCodec
from exchange.examples.core import example_missing_person_report
from exchange.models.referrals import ReferralState, ReferralStatus
from exchange.models.reporting import ReportConfirmation, ReportLevel
from exchange.models.sightings import DispatchAcknowledgement
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.rules.referral_rules import load_referral_rules, plan_referrals
from tests.cli.test_cli import run_cli
from tests.workflows.referral_people import BOY_17_NOT_HOME, CHILD_8
from tests.workflows.test_referrals_broker import board, new_rescue, publish, update
from tests.workflows.test_worker_broker import dispatches, sighting, start_worker, stop_worker

pytestmark = pytest.mark.broker


def rows(path: Path, key: str) -> dict[str, dict[str, str]]:
    return {row[key]: row for row in csv.DictReader(path.read_text().splitlines())}


async def test_report_figures_equal_the_events_published(
    provisioned: Any, codec: EventCodec, tmp_path: Path
) -> None:
    start = datetime.now(UTC)  # no slack: the previous test may have published just before
    run = uuid.uuid4().hex[:8].upper()
    worker = start_worker(provisioned)
    try:
        case = example_missing_person_report()  # Yanta, by police.yanta
        cases = [case.model_copy(update={"caseId": f"A610113R{run}{i}"}) for i in range(3)]
        await publish(provisioned, codec, "police", *cases, cases[0])  # one case twice
        rescue = new_rescue(BOY_17_NOT_HOME, CHILD_8)  # Chang'an, two persons
        await publish(provisioned, codec, "police", rescue)
        seen = [sighting(f"RP-{run}-{i}", facility=None, regionCode="610113") for i in range(2)]
        await publish(provisioned, codec, "transport", *seen)
        [first] = await dispatches(provisioned, codec, "police", {seen[0].sightingId}, want=1,
                                   settle_s=0)
        await publish(provisioned, codec, "police", DispatchAcknowledgement(
            dispatchId=first.dispatchId, sightingId=first.sightingId, unit=first.target,
            acknowledgedAt=datetime.now(UTC)))
        expected = plan_referrals(rescue, load_referral_rules(), load_jurisdiction())
        total = sum(len(p.referrals) for p in expected)
        states = await board(provisioned, codec, rescue.caseId or "", lambda s: len(s) >= total)
        done = next(s for s in states.values() if s.toAgency.agencyId == "education")
        await publish(provisioned, codec, "education", update(done, ReferralStatus.ACCEPTED),
                      update(done, ReferralStatus.COMPLETED))
        await board(provisioned, codec, rescue.caseId or "",
                    lambda s: done.referralId in s
                    and s[done.referralId].status is ReferralStatus.COMPLETED)
        await publish(provisioned, codec, "education", ReportConfirmation(
            year=start.year, level=ReportLevel.MEMBER_UNIT,
            agency=done.toAgency, confirmedAt=datetime.now(UTC)))
    finally:
        stop_worker(worker)
    end = datetime.now(UTC) + timedelta(seconds=1)

    env = {
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent),
    }
    made = run_cli("report", "--year", str(start.year), "--out", str(tmp_path),
                   "--from", start.isoformat(), "--to", end.isoformat(), env=env)
    assert made.returncode == 0, made.stderr
    assert "3 cases, 1 rescues" in made.stdout
    units = rows(tmp_path / "units.csv", "agency")
    assert units["police"]["cases"] == "3"
    assert units["police"]["rescues"] == "1"
    assert units["police"]["rescued_persons"] == "2"
    assert units["transport"]["sightings_reported"] == "2"
    assert units["police"]["acknowledgements"] == "1"
    assert float(units["police"]["median_ack_s"]) >= 0
    assert len(states) == sum(len(p.referrals) for p in expected)
    await referrals_match_the_board(provisioned, codec, units, (start, end), set(states))
    assert int(units["education"]["referrals_completed"]) >= 1
    districts = rows(tmp_path / "districts.csv", "code")
    assert districts["610113"]["cases"] == "3"
    assert districts["610113"]["sightings"] == "2"
    assert districts["610116"]["rescued_persons"] == "2"
    assert "<svg" in (tmp_path / "report.html").read_text()


async def referrals_match_the_board(
    provisioned: Any, codec: EventCodec, units: dict[str, dict[str, str]],
    period: tuple[datetime, datetime], mine: set[str],
) -> None:
    """The worker also refers earlier tests' rescues when it starts: the report must count every
    referral on the board in the period, this rescue's among them."""
    snapshot = await read_snapshot(
        provisioned.kafka_as("joint-meeting-office"), codec, "exchange.referral-board",
        agency="joint-meeting-office", partitions=3,
        protection=provisioned.protection_for("joint-meeting-office"),
    )
    latest: dict[str, ReferralState] = {}
    for decoded in snapshot.events:
        inside = period[0] <= decoded.attributes.time < period[1]
        if inside and isinstance(decoded.event, ReferralState):
            latest[decoded.event.referralId] = decoded.event
    assert mine <= set(latest)
    for agency in {s.toAgency.agencyId for s in latest.values()}:
        states = [s for s in latest.values() if s.toAgency.agencyId == agency]
        assert units[agency]["referrals_issued"] == str(len(states)), agency
        completed = [s for s in states if s.status is ReferralStatus.COMPLETED]
        assert units[agency]["referrals_completed"] == str(len(completed)), agency
