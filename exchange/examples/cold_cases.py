"""Examples of the cold-case ledger's events (fictional data): the case of a child missing
since 2019, in the ledger of police.lianhu, with one sighting lead since its last review."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from exchange.models.cold_cases import ColdCase, ColdCaseLead, ColdCaseLeadKind, ColdCaseReview
from exchange.models.common import AgencyRef

__all__ = ["example_cold_case", "example_cold_case_review"]

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
