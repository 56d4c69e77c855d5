"""Rescue and referral events (Art. 6): the rescue, the referrals it starts, each referral's
steps as reported by the agency that received it, its state on the referral board, and the
residence police station's follow-up visits.

Each class mirrors ``schemas/avro/<full name>.avsc`` field for field.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from exchange.models.base import ExchangeModel, Identifier, Text, non_empty, not_after_report
from exchange.models.common import AgencyRef, Location, Person
from exchange.models.identifiers import AwareDatetime, PhoneNumber, SocialCreditCode
from exchange.models.rule_errors import rule_error

__all__ = [
    "OPEN_STATUSES",
    "FollowUpVisit",
    "Referral",
    "ReferralPurpose",
    "ReferralState",
    "ReferralStatus",
    "ReferralUpdate",
    "Rescue",
    "RescuedVictim",
    "VictimNeeds",
    "VictimSituation",
]


class VictimSituation(enum.StrEnum):
    """What the victim was subjected to, as assessed at rescue."""

    CHILD_TRAFFICKING = "CHILD_TRAFFICKING"
    FORCED_MARRIAGE = "FORCED_MARRIAGE"
    FORCED_LABOUR = "FORCED_LABOUR"
    SEXUAL_EXPLOITATION = "SEXUAL_EXPLOITATION"
    FORCED_BEGGING = "FORCED_BEGGING"
    ABANDONMENT = "ABANDONMENT"
    OTHER = "OTHER"

class VictimNeeds(ExchangeModel):
    """Assistance a rescued victim needs (Art. 6); each flag starts a referral workflow."""

    temporaryAssistance: bool = False
    medicalCare: bool = False
    psychologicalCare: bool = False
    legalAid: bool = False
    jobTraining: bool = False
    schoolAge: bool = False
    canReturnHome: bool = False
    wantsToReturnHome: bool = False
    disability: bool = False

class RescuedVictim(ExchangeModel):
    """One person rescued or freed."""

    person: Person
    situation: VictimSituation
    situationDetails: str | None = None
    needs: VictimNeeds
    familyContact: PhoneNumber | None = None

class Rescue(ExchangeModel):
    """A rescue (解救) of one or more victims, handed on for assistance (Art. 6)."""

    rescueId: Identifier
    caseId: Identifier | None = None
    rescuedAt: AwareDatetime
    place: Location
    rescuingUnit: AgencyRef
    victims: Annotated[tuple[RescuedVictim, ...], AfterValidator(non_empty)]
    notes: str | None = None
    reportedAt: AwareDatetime
    intermediaryCode: SocialCreditCode | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        not_after_report("rescuedAt", self.rescuedAt, self.reportedAt)
        return self

class ReferralPurpose(enum.StrEnum):
    """What the receiving agency is asked to do."""

    TEMPORARY_ASSISTANCE = "TEMPORARY_ASSISTANCE"
    RETURN_HOME = "RETURN_HOME"
    MEDICAL_CARE = "MEDICAL_CARE"
    PSYCHOLOGICAL_CARE = "PSYCHOLOGICAL_CARE"
    LEGAL_AID = "LEGAL_AID"
    JOB_TRAINING = "JOB_TRAINING"
    SCHOOL_ENROLMENT = "SCHOOL_ENROLMENT"
    INVESTIGATION = "INVESTIGATION"
    PROSECUTION = "PROSECUTION"
    REPATRIATION = "REPATRIATION"
    FAMILY_SUPPORT = "FAMILY_SUPPORT"
    DISABILITY_SUPPORT = "DISABILITY_SUPPORT"
    FOLLOW_UP = "FOLLOW_UP"
    OTHER = "OTHER"

class ReferralStatus(enum.StrEnum):
    """State of a referral; each change is a new event with the same referralId."""

    ISSUED = "ISSUED"
    ACCEPTED = "ACCEPTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    DECLINED = "DECLINED"
    TRANSFERRED = "TRANSFERRED"

class Referral(ExchangeModel):
    """One agency hands a person or case to another (移交/转介) and both track it."""

    referralId: Identifier
    caseId: Identifier
    fromAgency: AgencyRef
    toAgency: AgencyRef
    purpose: ReferralPurpose
    legalBasis: Text
    subject: Person | None = None
    dueDate: date
    status: ReferralStatus = ReferralStatus.ISSUED
    notes: str | None = None
    reportedAt: AwareDatetime
    intermediaryCode: SocialCreditCode | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.fromAgency == self.toAgency:
            raise rule_error(
                "referral_distinct_agencies",
                "fromAgency and toAgency are the same unit; a referral hands over to another one",
            )
        return self

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
            raise rule_error(
                "referral_update_status",
                "status ISSUED is set by the workflows when they issue a referral; an update is "
                "ACCEPTED, IN_PROGRESS, COMPLETED, DECLINED or TRANSFERRED",
            )
        needs_reason = self.status in (ReferralStatus.DECLINED, ReferralStatus.TRANSFERRED)
        if needs_reason and not (self.reason and self.reason.strip()):
            raise rule_error(
                "referral_update_reason", f"status {self.status.value} needs a reason"
            )
        if (self.status is ReferralStatus.TRANSFERRED) != (self.transferTo is not None):
            raise rule_error(
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

class FollowUpVisit(ExchangeModel):
    """A follow-up visit recorded by the residence police station."""

    referralId: Identifier
    caseId: Identifier
    visit: Annotated[int, Field(ge=1)]
    unit: AgencyRef
    visitedAt: AwareDatetime
