"""The DNA hand-off (Art. 8, 9, 打拐DNA信息库): a sample taken, a comparison requested, the
laboratory's result, and the verification of a candidate kinship match by the police units
owning the cases it links. Sample identifiers and likelihoods only: no genetic data.

Each class mirrors ``schemas/avro/<full name>.avsc`` field for field.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from typing import Self

from pydantic import model_validator
from pydantic_core import PydanticCustomError

from exchange.models.base import ExchangeModel, Identifier, Text
from exchange.models.common import AgencyRef
from exchange.models.identifiers import AwareDatetime

__all__ = [
    "DnaComparisonOutcome",
    "DnaComparisonRequest",
    "DnaComparisonResult",
    "DnaSampleCollected",
    "DnaSampleKind",
    "KinshipVerification",
    "KinshipVerificationDecision",
    "KinshipVerificationStatus",
]


class DnaSampleKind(enum.StrEnum):
    MISSING_CHILD_RELATIVE = "MISSING_CHILD_RELATIVE"
    UNKNOWN_ORIGIN_CHILD = "UNKNOWN_ORIGIN_CHILD"
    ABANDONED_INFANT = "ABANDONED_INFANT"
    RESCUED_CHILD = "RESCUED_CHILD"
    OTHER = "OTHER"


class DnaComparisonOutcome(enum.StrEnum):
    CANDIDATE_MATCH = "CANDIDATE_MATCH"
    NO_MATCH = "NO_MATCH"


class KinshipVerificationStatus(enum.StrEnum):
    OPEN = "OPEN"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"


class DnaSampleCollected(ExchangeModel):
    """A sample entered in the city DNA database, with the case and unit it belongs to."""

    sampleId: Identifier
    kind: DnaSampleKind
    caseId: Identifier
    caseOwner: AgencyRef
    relationship: str | None = None
    collectedBy: AgencyRef
    collectedAt: AwareDatetime


class DnaComparisonRequest(ExchangeModel):
    """A comparison of a sample against the database, asked of the laboratory."""

    requestId: Identifier
    sampleId: Identifier
    caseId: Identifier
    requestedBy: AgencyRef
    requestedAt: AwareDatetime


class DnaComparisonResult(ExchangeModel):
    """The laboratory's answer: a candidate kinship match with its likelihood, or none."""

    resultId: Identifier
    requestId: Identifier
    sampleId: Identifier
    outcome: DnaComparisonOutcome
    matchedSampleId: Identifier | None = None
    likelihoodRatio: float | None = None
    relationship: str | None = None
    laboratory: AgencyRef
    reportedAt: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        match = self.outcome is DnaComparisonOutcome.CANDIDATE_MATCH
        if match and not (self.matchedSampleId and (self.likelihoodRatio or 0) > 1):
            raise PydanticCustomError(
                "dna_candidate",
                "outcome CANDIDATE_MATCH needs matchedSampleId and a likelihoodRatio above 1",
            )
        if not match and (self.matchedSampleId or self.likelihoodRatio is not None):
            raise PydanticCustomError(
                "dna_no_match", "outcome NO_MATCH carries no matchedSampleId or likelihoodRatio"
            )
        if self.matchedSampleId == self.sampleId:
            raise PydanticCustomError("dna_self_match", "matchedSampleId equals sampleId")
        return self


class KinshipVerification(ExchangeModel):
    """A candidate kinship match linking two cases, and where its verification stands."""

    verificationId: Identifier
    status: KinshipVerificationStatus
    sampleId: Identifier
    sampleKind: DnaSampleKind
    caseId: Identifier
    caseOwner: AgencyRef
    matchedSampleId: Identifier
    matchedSampleKind: DnaSampleKind
    matchedCaseId: Identifier
    matchedCaseOwner: AgencyRef
    likelihoodRatio: float
    verifyDueAt: AwareDatetime
    deadlineReason: Text
    decidedBy: AgencyRef | None = None
    updatedAt: AwareDatetime


class KinshipVerificationDecision(ExchangeModel):
    """A case-owning unit confirms or rejects a candidate kinship match."""

    verificationId: Identifier
    confirmed: bool
    note: Text
    decidedBy: AgencyRef
    decidedAt: AwareDatetime
