"""Examples of the DNA hand-off events (fictional data): the boy of unknown origin of
:mod:`exchange.examples.children` matched to the mother of a child missing since 2019."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from exchange.models.common import AgencyRef
from exchange.models.dna import (
    DnaComparisonOutcome,
    DnaComparisonRequest,
    DnaComparisonResult,
    DnaSampleCollected,
    DnaSampleKind,
    KinshipVerification,
    KinshipVerificationDecision,
    KinshipVerificationStatus,
)

__all__ = [
    "example_dna_comparison_request",
    "example_dna_comparison_result",
    "example_dna_sample",
    "example_kinship_verification",
    "example_kinship_verification_decision",
]

CST = timezone(timedelta(hours=8))
_YANTA = AgencyRef(agencyId="police", unitId="police.yanta")
_LAB = AgencyRef(agencyId="police", displayName="西安市公安局物证鉴定所 DNA laboratory")
_MOTHER_CASE = "A6101132019060100042"  # a missing-child case of 2019 (fictional)


def example_dna_sample() -> DnaSampleCollected:
    return DnaSampleCollected(
        sampleId="DNA-S-2025-7781", kind=DnaSampleKind.UNKNOWN_ORIGIN_CHILD,
        caseId="UOC-2025-0031", caseOwner=_YANTA, collectedBy=_YANTA,
        collectedAt=datetime(2025, 9, 3, 10, 30, tzinfo=CST),
    )  # fmt: skip


def example_dna_comparison_request() -> DnaComparisonRequest:
    return DnaComparisonRequest(
        requestId="DNA-R-2025-0912", sampleId="DNA-S-2025-7781", caseId="UOC-2025-0031",
        requestedBy=_YANTA, requestedAt=datetime(2025, 9, 3, 10, 45, tzinfo=CST),
    )  # fmt: skip


def example_dna_comparison_result() -> DnaComparisonResult:
    return DnaComparisonResult(
        resultId="DNA-X-2025-0457", requestId="DNA-R-2025-0912", sampleId="DNA-S-2025-7781",
        outcome=DnaComparisonOutcome.CANDIDATE_MATCH, matchedSampleId="DNA-S-2019-0308",
        likelihoodRatio=2.4e6, relationship="PARENT_CHILD", laboratory=_LAB,
        reportedAt=datetime(2025, 9, 5, 15, 0, tzinfo=CST),
    )  # fmt: skip


def example_kinship_verification() -> KinshipVerification:
    result = example_dna_comparison_result()
    opened = result.reportedAt + timedelta(seconds=1)
    return KinshipVerification(
        verificationId=result.resultId, status=KinshipVerificationStatus.OPEN,
        sampleId=result.sampleId, sampleKind=DnaSampleKind.UNKNOWN_ORIGIN_CHILD,
        caseId="UOC-2025-0031", caseOwner=_YANTA, matchedSampleId="DNA-S-2019-0308",
        matchedSampleKind=DnaSampleKind.MISSING_CHILD_RELATIVE, matchedCaseId=_MOTHER_CASE,
        matchedCaseOwner=AgencyRef(agencyId="police", unitId="police.lianhu"),
        likelihoodRatio=2.4e6, verifyDueAt=opened + timedelta(hours=72),
        deadlineReason="72 h: the owning units verify a candidate match within three days",
        updatedAt=opened,
    )  # fmt: skip


def example_kinship_verification_decision() -> KinshipVerificationDecision:
    return KinshipVerificationDecision(
        verificationId="DNA-X-2025-0457", confirmed=True,
        note="Second sample and the mother's account agree; the boy is the child missing "
        "since 2019.", decidedBy=AgencyRef(agencyId="police", unitId="police.lianhu"),
        decidedAt=datetime(2025, 9, 7, 11, 0, tzinfo=CST),
    )  # fmt: skip
