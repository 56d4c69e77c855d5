"""Examples of the placement, infant-custody and tip events (fictional data), for
``exchange example`` and the tests; :mod:`exchange.examples.core` lists them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from exchange.models.common import AgencyRef, Location
from exchange.models.infants import InfantCustodyEvent, InfantCustodyStep
from exchange.models.intermediaries import JobPlacement
from exchange.models.referrals import FollowUpVisit
from exchange.models.reporting import ReportConfirmation, ReportLevel
from exchange.models.tips import PublicTip, RewardEligibility, TipChannel, TipDispatch, TipOutcome

__all__ = [
    "example_follow_up_visit",
    "example_infant_custody",
    "example_job_placement",
    "example_public_tip",
    "example_report_confirmation",
    "example_reward_eligibility",
    "example_tip_dispatch",
    "example_tip_outcome",
]

CST = timezone(timedelta(hours=8))
AGENCY_USCC = "91610104MA7B3CRQ1H"  # the revoked agency of the revocation example
_HOTLINE = AgencyRef(agencyId="joint-meeting-office", displayName="反拐举报热线 hotline")
_BEILIN = AgencyRef(agencyId="police", unitId="police.beilin")


def example_job_placement() -> JobPlacement:
    """Human resources records three workers placed by the (later revoked) agency."""
    return JobPlacement(
        placementId="HR-PL-2025-0311", intermediaryCode=AGENCY_USCC,
        intermediaryName="西安某某人力资源服务有限公司 (fictional)", workers=3,
        regionCode="610104", placedAt=datetime(2025, 6, 3, 9, 0, tzinfo=CST),
        recordingUnit=AgencyRef(agencyId="human-resources"),
        reportedAt=datetime(2025, 6, 3, 9, 30, tzinfo=CST),
    )


def example_infant_custody() -> InfantCustodyEvent:
    """The police take a DNA sample from an infant found at Xi'an station (step one)."""
    return InfantCustodyEvent(
        eventId="DNA-2025-0091", caseId="A6101030000002025060004",
        step=InfantCustodyStep.DNA_SAMPLE_COLLECTED, dnaDatabaseRef="DNA-CN-61-2025-000912",
        unit=AgencyRef(agencyId="police", unitId="police.xincheng"),
        at=datetime(2025, 6, 4, 11, 0, tzinfo=CST),
        reportedAt=datetime(2025, 6, 4, 11, 20, tzinfo=CST),
    )


def example_public_tip() -> PublicTip:
    """A hotline caller reports children begging under an adult's watch near the Bell Tower."""
    return PublicTip(
        tipId="TIP-2025-0457", channel=TipChannel.HOTLINE,
        receivedAt=datetime(2025, 6, 5, 20, 10, tzinfo=CST),
        location=Location(lat=34.2610, lon=108.9423, regionCode="610103",
                          address="钟楼 Bell Tower underpass"),
        summary="Two small children begging late at night, an adult collects the money.",
        childAtRisk=True, tipsterContact="+86 137 0000 0000", receivedBy=_HOTLINE,
        reportedAt=datetime(2025, 6, 5, 20, 15, tzinfo=CST),
    )


def example_tip_dispatch() -> TipDispatch:
    tip = example_public_tip()
    return TipDispatch(
        tipId=tip.tipId, target=_BEILIN, rule="region-code",
        reason="place in region 610103 碑林区 Beilin → police.beilin (rule region-code)",
        channel=tip.channel, receivedAt=tip.receivedAt, location=tip.location,
        summary=tip.summary, childAtRisk=tip.childAtRisk,
        dispatchedAt=tip.reportedAt + timedelta(seconds=1),
    )


def example_tip_outcome() -> TipOutcome:
    return TipOutcome(
        tipId="TIP-2025-0457", ledToResult=True, result="rescue R-2025-0051 (two children)",
        unit=_BEILIN, decidedAt=datetime(2025, 6, 7, 16, 0, tzinfo=CST),
    )


def example_reward_eligibility() -> RewardEligibility:
    outcome = example_tip_outcome()
    return RewardEligibility(
        tipId=outcome.tipId, channel=TipChannel.HOTLINE, result=outcome.result or "",
        unit=outcome.unit, tipsterReachable=True, receivedBy=_HOTLINE,
        eligibleAt=outcome.decidedAt,
    )


def example_report_confirmation() -> ReportConfirmation:
    """Civil affairs confirms its report for 2025 in time."""
    return ReportConfirmation(
        year=2025, level=ReportLevel.MEMBER_UNIT, agency=AgencyRef(agencyId="civil-affairs"),
        confirmedAt=datetime(2025, 12, 12, 16, 0, tzinfo=CST),
    )


def example_follow_up_visit() -> FollowUpVisit:
    """Yanta police visit a rescued person at home, the first scheduled visit."""
    return FollowUpVisit(
        referralId="R-2025-0042-1-FOLLOW_UP-police", caseId="A6101160000002025040017", visit=1,
        unit=AgencyRef(agencyId="police", unitId="police.yanta"),
        visitedAt=datetime(2025, 6, 18, 15, 0, tzinfo=CST),
    )
