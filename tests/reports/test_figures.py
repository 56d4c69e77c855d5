"""The yearly figures and flags from decoded events, and the files they are written to."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from exchange.codec import DecodedEvent, EventCodec
from exchange.examples.cold_cases import example_cold_case
from exchange.examples.core import (
    example_intermediary_revocation,
    example_missing_person_report,
    example_rescue,
    example_transport_sighting,
)
from exchange.examples.workflow_outputs import example_compliance_alert, example_referral_state
from exchange.models.cold_cases import ColdCaseLead, ColdCaseLeadKind
from exchange.models.common import AgencyRef
from exchange.models.intermediaries import IntermediaryAction
from exchange.models.referrals import ReferralStatus
from exchange.models.reporting import ReportConfirmation, ReportLevel
from exchange.models.sightings import DispatchAcknowledgement
from exchange.reports.collect import places_of
from exchange.reports.figures import CST, YearReport, build_report
from exchange.reports.render import write_report
from exchange.rules.jurisdiction import load_jurisdiction

YEAR = 2025
AT = datetime(2025, 6, 1, 12, tzinfo=CST)


def on_bus(codec: EventCodec, event: BaseModel, at: datetime = AT) -> DecodedEvent:
    encoded = codec.encode(event, source="/test", time=at)
    return codec.decode(encoded.value, encoded.headers)


@pytest.fixture
def report(codec: EventCodec) -> YearReport:
    case = example_missing_person_report()  # police.yanta, last seen in Yanta 610113
    sighting = example_transport_sighting()  # by transport, at Xi'an North (Weiyang)
    ack = DispatchAcknowledgement(
        dispatchId="d-1", sightingId=sighting.sightingId,
        unit=AgencyRef(agencyId="railway-police", unitId="railway-police.xian-north-station"),
        acknowledgedAt=sighting.reportedAt + timedelta(seconds=90),
    )
    state = example_referral_state()  # to civil affairs
    revoked = example_intermediary_revocation()
    events = [
        on_bus(codec, case), on_bus(codec, case),  # one case reported twice
        on_bus(codec, example_rescue()),  # Chang'an, one person
        on_bus(codec, sighting), on_bus(codec, ack), on_bus(codec, ack),  # ack repeated
        on_bus(codec, state),
        on_bus(codec, state.model_copy(update={"escalated": True, "overdue": True})),
        on_bus(codec, state.model_copy(update={"status": ReferralStatus.COMPLETED})),
        on_bus(codec, example_compliance_alert()),
        on_bus(codec, revoked),
        on_bus(codec, revoked.model_copy(update={"action": IntermediaryAction.REINSTATED})),
        on_bus(codec, ReportConfirmation(
            year=YEAR, level=ReportLevel.MEMBER_UNIT, agency=AgencyRef(agencyId="police"),
            confirmedAt=datetime(2025, 12, 10, tzinfo=CST))),
        on_bus(codec, ReportConfirmation(
            year=YEAR, level=ReportLevel.MEMBER_UNIT, agency=AgencyRef(agencyId="health"),
            confirmedAt=datetime(2025, 12, 16, 9, tzinfo=CST))),
        on_bus(codec, ReportConfirmation(
            year=YEAR, level=ReportLevel.DISTRICT_OFFICE, agency=AgencyRef(agencyId="police"),
            regionCode="610113", confirmedAt=datetime(2025, 12, 19, tzinfo=CST))),
        on_bus(codec, example_rescue(), datetime(2026, 1, 1, 0, 0, 1, tzinfo=CST)),  # next year
    ]
    return build_report(
        YEAR, events, members=["police", "health", "civil-affairs"],
        places=places_of(load_jurisdiction()), now=datetime(2025, 12, 21, 9, tzinfo=CST),
    )


def test_figures_per_unit(report: YearReport) -> None:
    police = report.units["police"]
    assert (police.cases, police.rescues, police.rescued_persons) == (1, 1, 1)
    assert report.units["transport"].sightings_reported == 1
    railway = report.units["railway-police"]
    assert (railway.acknowledgements, railway.median_ack_s) == (1, 90.0)
    civil = report.units["civil-affairs"]
    assert (civil.referrals_issued, civil.referrals_completed, civil.referrals_overdue) == (1, 1, 1)
    assert civil.alerts_received == 1
    assert report.units["joint-meeting-office"].alerts_received == 1
    market = report.units["market-regulation"]
    assert (market.revocations, market.reinstatements) == (1, 1)


def test_figures_per_district(report: YearReport) -> None:
    assert report.districts["610113"].cases == 1
    assert report.districts["610116"].rescued_persons == 1
    assert report.districts["610112"].sightings == 1  # Xi'an North lies in Weiyang
    assert sum(d.rescues for d in report.districts.values()) == 1  # not next year's


def test_flags_after_the_deadlines(report: YearReport) -> None:
    flagged = {(f.level.value, f.who): f.problem for f in report.flags}
    assert ("MEMBER_UNIT", "police") not in flagged
    assert flagged[("MEMBER_UNIT", "health")] == "confirmed late, on 2025-12-16"
    assert flagged[("MEMBER_UNIT", "civil-affairs")] == "not confirmed by the deadline"
    assert not any(who.startswith("610113") for _, who in flagged)
    assert ("DISTRICT_OFFICE", "610116 长安区 Chang'an") in flagged


def test_no_flag_before_the_deadline(codec: EventCodec) -> None:
    report = build_report(YEAR, [], members=["police"], places=places_of(load_jurisdiction()),
                          now=datetime(2025, 12, 15, 23, tzinfo=CST))
    assert report.flags == []


def test_files(report: YearReport, tmp_path: Path) -> None:
    written = {p.name for p in write_report(report, tmp_path)}
    assert written == {"units.csv", "districts.csv", "flags.csv", "report.html"}
    lines = (tmp_path / "units.csv").read_text().splitlines()
    rows = {r["agency"]: r for r in csv.DictReader(lines)}
    assert rows["railway-police"]["median_ack_s"] == "90.0"
    assert rows["police"]["cases"] == "1"
    page = (tmp_path / "report.html").read_text()
    assert page.count("<svg") == 6
    assert "Referrals overdue by agency" in page
    assert '<html lang="zh-CN">' in page
    assert "@page{size:A4 landscape" in page
    assert "成员单位<br><span lang=\"en\">Member unit</span>" in page
    assert "rescued_persons" not in page  # headings in words, not column names
    assert "confirmed late, on 2025-12-16" in page


def test_cold_cases_reviews_and_dna_comparisons_per_unit(codec: EventCodec) -> None:
    cold = example_cold_case()  # police.lianhu
    inside = AT.astimezone(UTC)
    leads = (
        ColdCaseLead(at=inside, kind=ColdCaseLeadKind.REVIEW, ref="r1", summary="files read"),
        ColdCaseLead(at=inside, kind=ColdCaseLeadKind.DNA_COMPARISON, ref="d1", summary="LR"),
        ColdCaseLead(at=inside.replace(year=2024), kind=ColdCaseLeadKind.REVIEW, ref="r0",
                     summary="the year before"),
    )
    events = [on_bus(codec, cold), on_bus(codec, cold.model_copy(update={"leads": leads}))]
    report = build_report(YEAR, events, members=["police"],
                          places=places_of(load_jurisdiction()), now=AT)
    police = report.units[cold.unit.agencyId]
    assert (police.cold_cases, police.cold_case_reviews, police.dna_comparisons) == (1, 1, 1)
