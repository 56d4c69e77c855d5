"""Events of the referral workflows (Art. 6): a referral's steps reported by the agency that
received it, the current state of each referral on the referral board, and the compliance
alerts the workflows raise when a rule of the Xi'an rules is not met."""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from typing import Annotated, Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from exchange.models.base import ExchangeModel, Identifier, Text
from exchange.models.common import AgencyRef
from exchange.models.events import ReferralPurpose, ReferralStatus
from exchange.models.identifiers import AwareDatetime, RegionCode

__all__ = [
    "ComplianceAlert",
    "ComplianceAlertKind",
    "FollowUpVisit",
    "ReferralState",
    "ReferralUpdate",
    "ReportConfirmation",
    "ReportLevel",
]


class ReferralUpdate(ExchangeModel):
    """A step of a referral, reported by the agency it is addressed to."""

    referralId: Identifier
    caseId: Identifier
    status: ReferralStatus
    by: AgencyRef
    reason: str | None = None
    transferTo: AgencyRef | None = None
    updatedAt: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.status is ReferralStatus.ISSUED:
            raise PydanticCustomError(
                "referral_update_status",
                "status ISSUED is set by the workflows when they issue a referral; an update is "
                "ACCEPTED, IN_PROGRESS, COMPLETED, DECLINED or TRANSFERRED",
            )
        needs_reason = self.status in (ReferralStatus.DECLINED, ReferralStatus.TRANSFERRED)
        if needs_reason and not (self.reason and self.reason.strip()):
            raise PydanticCustomError(
                "referral_update_reason", "status {status} needs a reason",
                {"status": self.status.value},
            )  # fmt: skip
        if (self.status is ReferralStatus.TRANSFERRED) != (self.transferTo is not None):
            raise PydanticCustomError(
                "referral_update_transfer",
                "transferTo is given exactly when status is TRANSFERRED",
            )
        return self


class ReferralState(ExchangeModel):
    """The current state of one referral on the referral board (no personal data)."""

    referralId: Identifier
    caseId: Identifier
    rescueId: Identifier | None = None
    personIndex: int
    fromAgency: AgencyRef
    toAgency: AgencyRef
    purpose: ReferralPurpose
    legalBasis: Text
    rule: Identifier
    decision: Text
    status: ReferralStatus
    statusReason: str | None = None
    transferredTo: AgencyRef | None = None
    issuedAt: AwareDatetime
    dueAt: AwareDatetime
    updatedAt: AwareDatetime
    overdue: bool = False
    escalated: bool = False
    intermediaryCode: Identifier | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


OPEN_STATUSES = frozenset(
    {ReferralStatus.ISSUED, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS}
)


class ComplianceAlertKind(enum.StrEnum):
    """Which rule a compliance alert is about."""

    REFERRAL_OVERDUE = "REFERRAL_OVERDUE"
    FOLLOW_UP_MISSED = "FOLLOW_UP_MISSED"
    REVOKED_INTERMEDIARY_NAMED = "REVOKED_INTERMEDIARY_NAMED"
    INFANT_WITHOUT_DNA_SAMPLE = "INFANT_WITHOUT_DNA_SAMPLE"
    REPORT_NOT_CONFIRMED = "REPORT_NOT_CONFIRMED"
    OTHER = "OTHER"


class ComplianceAlert(ExchangeModel):
    """A rule not met, sent to every agency that must act."""

    alertId: Identifier
    kind: ComplianceAlertKind
    subject: Identifier
    caseId: Identifier | None = None
    addressedTo: tuple[AgencyRef, ...]
    rule: Identifier
    reason: Text
    raisedAt: AwareDatetime


class ReportLevel(enum.StrEnum):
    """A member unit (deadline 15 December) or a district office (20 December), Art. 12."""

    MEMBER_UNIT = "MEMBER_UNIT"
    DISTRICT_OFFICE = "DISTRICT_OFFICE"


class ReportConfirmation(ExchangeModel):
    """A member unit or district office confirms its yearly report."""

    year: Annotated[int, Field(ge=2000, le=2100)]
    level: ReportLevel
    agency: AgencyRef
    regionCode: RegionCode | None = None
    confirmedAt: AwareDatetime

    @model_validator(mode="after")
    def _district(self) -> Self:
        if (self.level is ReportLevel.DISTRICT_OFFICE) != (self.regionCode is not None):
            raise PydanticCustomError(
                "report_region", "regionCode is given exactly for a DISTRICT_OFFICE confirmation"
            )
        return self


class FollowUpVisit(ExchangeModel):
    """A follow-up visit recorded by the residence police station."""

    referralId: Identifier
    caseId: Identifier
    visit: Annotated[int, Field(ge=1)]
    unit: AgencyRef
    visitedAt: AwareDatetime
