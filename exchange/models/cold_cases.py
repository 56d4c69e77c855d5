"""The ledger of unsolved child-trafficking cases (Art. 9, 积案信息台账): each case's entry,
with its responsible chief, unit, reviews and leads, and the police unit's review.

Each class mirrors ``schemas/avro/<full name>.avsc`` field for field.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum

from exchange.models.base import ExchangeModel, Identifier, Text
from exchange.models.common import AgencyRef
from exchange.models.identifiers import AwareDatetime

__all__ = ["ColdCase", "ColdCaseLead", "ColdCaseLeadKind", "ColdCaseReview"]


class ColdCaseLeadKind(enum.StrEnum):
    SIGHTING_MATCH = "SIGHTING_MATCH"
    TIP = "TIP"
    DNA_COMPARISON = "DNA_COMPARISON"
    REVIEW = "REVIEW"
    OTHER = "OTHER"


class ColdCaseLead(ExchangeModel):
    """One event that touched the case."""

    at: AwareDatetime
    kind: ColdCaseLeadKind
    ref: Identifier
    summary: Text


class ColdCase(ExchangeModel):
    """A case's entry in the ledger (the latest per case id on a compacted topic)."""

    caseId: Identifier
    unit: AgencyRef
    chief: Text
    lastSeenAt: AwareDatetime
    enteredAt: AwareDatetime
    lastReviewAt: AwareDatetime | None = None
    nextReviewDue: AwareDatetime
    reviews: int = 0
    leads: tuple[ColdCaseLead, ...] = ()
    reviewOverdue: bool = False
    closed: bool = False
    reason: Text
    updatedAt: AwareDatetime


class ColdCaseReview(ExchangeModel):
    """The unit's review of a cold case (files, evidence, leads gone through)."""

    caseId: Identifier
    reviewedBy: AgencyRef
    summary: Text
    reviewedAt: AwareDatetime
