"""Examples of the cold-case ledger's events (fictional data): the case of a child missing
since 2019, in the ledger of police.lianhu, with one sighting lead since its last review, and
its chief's three responsibilities (solved, the child not found yet)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from exchange.models.chief_responsibility import (
    ChiefDuty,
    ChiefDutyEvidence,
    ChiefDutyEvidenceKind,
    ChiefDutyKind,
    ChiefDutyReport,
    ChiefDutyState,
    ChiefResponsibility,
)
from exchange.models.cold_cases import ColdCase, ColdCaseLead, ColdCaseLeadKind, ColdCaseReview
from exchange.models.common import AgencyRef
from exchange.models.missing_persons import MissingPersonStatus

__all__ = [
    "example_chief_duty_report",
    "example_chief_responsibility",
    "example_cold_case",
    "example_cold_case_review",
]

CST = timezone(timedelta(hours=8))
_LIANHU = AgencyRef(agencyId="police", unitId="police.lianhu")
_CASE = "A6101132019060100042"


def example_cold_case_review() -> ColdCaseReview:
    return ColdCaseReview(
        caseId=_CASE, reviewedBy=_LIANHU,
        summary="Files re-read; the 2019 witness statements checked against new sightings.",
        reviewedAt=datetime(2025, 8, 1, 10, 0, tzinfo=CST),
    )  # fmt: skip


def example_cold_case() -> ColdCase:
    review = example_cold_case_review()
    return ColdCase(
        caseId=_CASE, unit=_LIANHU, chief="主管局长 (head of the public security organ of "
        "police.lianhu)", lastSeenAt=datetime(2019, 6, 1, 17, 30, tzinfo=CST),
        enteredAt=datetime(2019, 8, 30, 17, 30, tzinfo=CST), lastReviewAt=review.reviewedAt,
        nextReviewDue=review.reviewedAt + timedelta(days=30), reviews=71,
        leads=(ColdCaseLead(
            at=datetime(2025, 8, 12, 9, 0, tzinfo=CST), kind=ColdCaseLeadKind.SIGHTING_MATCH,
            ref="M-S-2025-3301", summary="sighting S-2025-3301 scored 0.74"),),
        reason="open 90 days: a missing child not found within three months is a cold case; "
        "review every 30 days",
        updatedAt=datetime(2025, 8, 12, 9, 0, tzinfo=CST),
    )  # fmt: skip


def example_chief_duty_report() -> ChiefDutyReport:
    return ChiefDutyReport(
        caseId=_CASE, duty=ChiefDutyKind.SOLVE, reportedBy=_LIANHU,
        recordRef="XA-LH-PA-2025-0117",
        summary="Two suspects arrested; the case sent to the Lianhu procuratorate.",
        reportedAt=datetime(2025, 9, 3, 16, 0, tzinfo=CST),
    )  # fmt: skip


def example_chief_responsibility() -> ChiefResponsibility:
    record = example_chief_duty_report()
    match = ChiefDutyEvidence(
        at=datetime(2025, 8, 12, 9, 0, tzinfo=CST), kind=ChiefDutyEvidenceKind.SIGHTING_MATCH,
        ref="M-S-2025-3301", summary="sighting S-2025-3301 matched (score 0.74)",
    )  # fmt: skip
    solved = ChiefDutyEvidence(
        at=record.reportedAt, kind=ChiefDutyEvidenceKind.UNIT_RECORD, ref=record.recordRef,
        summary=f"record {record.recordRef} of police.lianhu",
    )  # fmt: skip
    return ChiefResponsibility(
        caseId=_CASE, unit=_LIANHU,
        chief="主管局长 (head of the public security organ of police.lianhu)",
        assignedAt=datetime(2019, 6, 1, 19, 0, tzinfo=CST), caseStatus=MissingPersonStatus.OPEN,
        duties=(
            ChiefDuty(duty=ChiefDutyKind.SOLVE, state=ChiefDutyState.DISCHARGED,
                      evidence=(match, solved), dischargedAt=record.reportedAt),
            ChiefDuty(duty=ChiefDutyKind.RESCUE, state=ChiefDutyState.IN_PROGRESS,
                      evidence=(match,)),
            ChiefDuty(duty=ChiefDutyKind.SETTLE, state=ChiefDutyState.ASSIGNED),
        ),
        reason="SOLVE 包破案; RESCUE 包解救被拐儿童; SETTLE 包善后处置; 西安市反拐实施细则 第八条",
        updatedAt=record.reportedAt,
    )  # fmt: skip
