"""The five core events (Avro namespace ``exchange.events``).

Each class mirrors ``schemas/avro/exchange.events.<Name>.avsc`` field for field. Event id,
source and time travel in CloudEvents headers; ``reportedAt`` and the reporting agency are part
of the data so that a stored record stands on its own.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from datetime import date, timedelta
from typing import Annotated, Self, TypeVar

from pydantic import AfterValidator, model_validator
from pydantic_core import PydanticCustomError

from exchange.models.base import ExchangeModel, Identifier, Text
from exchange.models.common import AgencyRef, Location, Person, PersonDescription
from exchange.models.identifiers import AwareDatetime, PhoneNumber, SocialCreditCode

__all__ = [
    "IntermediaryAction",
    "IntermediaryKind",
    "IntermediaryRevocation",
    "MissingPersonCategory",
    "MissingPersonReport",
    "MissingPersonStatus",
    "Referral",
    "ReferralPurpose",
    "ReferralStatus",
    "Rescue",
    "RescuedVictim",
    "TransportSighting",
    "VictimNeeds",
    "VictimSituation",
]

_T = TypeVar("_T")

#: Clock skew tolerated between an agency's clock and the time it reports.
CLOCK_SKEW = timedelta(minutes=5)


def _not_after_report(what: str, when: AwareDatetime, reported: AwareDatetime) -> None:
    if when > reported + CLOCK_SKEW:
        raise PydanticCustomError(
            "chronology",
            "{what} {when} is after reportedAt {reported}; an event cannot report the future",
            {"what": what, "when": when.isoformat(), "reported": reported.isoformat()},
        )


def _non_empty(items: tuple[_T, ...]) -> tuple[_T, ...]:
    # Not Field(min_length=1): pydantic then also reports "too_short" when an item is invalid.
    if not items:
        raise PydanticCustomError("too_short", "at least one item is required")
    return items


class MissingPersonCategory(enum.StrEnum):
    """MINOR triggers the emergency missing-minor alert (Art. 5, 8, 9)."""

    MINOR = "MINOR"
    ADULT = "ADULT"
    ENDANGERED = "ENDANGERED"


class MissingPersonStatus(enum.StrEnum):
    """State of a missing-person case."""

    OPEN = "OPEN"
    FOUND = "FOUND"
    CLOSED_FALSE_REPORT = "CLOSED_FALSE_REPORT"
    WITHDRAWN = "WITHDRAWN"


class MissingPersonReport(ExchangeModel):
    """Police report of a missing person, especially a minor; later reports supersede it."""

    caseId: Identifier
    category: MissingPersonCategory
    status: MissingPersonStatus = MissingPersonStatus.OPEN
    missingPerson: Person
    lastSeenAt: AwareDatetime
    lastSeenLocation: Location
    circumstances: Text
    publicAlert: bool = False
    publicContactPhone: PhoneNumber | None = None
    familyContact: PhoneNumber | None = None
    reportingUnit: AgencyRef
    reportedAt: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.category is MissingPersonCategory.MINOR and not self.missingPerson.isMinor:
            raise PydanticCustomError(
                "minor_category",
                "category MINOR needs missingPerson.isMinor = true (or choose ADULT/ENDANGERED)",
            )
        _not_after_report("lastSeenAt", self.lastSeenAt, self.reportedAt)
        return self


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
    victims: Annotated[tuple[RescuedVictim, ...], AfterValidator(_non_empty)]
    notes: str | None = None
    reportedAt: AwareDatetime
    intermediaryCode: SocialCreditCode | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _not_after_report("rescuedAt", self.rescuedAt, self.reportedAt)
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
            raise PydanticCustomError(
                "referral_distinct_agencies",
                "fromAgency and toAgency are the same unit; a referral hands over to another one",
            )
        return self


class TransportSighting(ExchangeModel):
    """Transport staff report a suspected trafficking case to the local police (Art. 7, 10)."""

    sightingId: Identifier
    observedAt: AwareDatetime
    location: Location
    reporter: AgencyRef
    reporterStaffId: str | None = None
    suspectedPersons: tuple[PersonDescription, ...] = ()
    situation: Text
    childAtRisk: bool = False
    destination: str | None = None
    reportedAt: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _not_after_report("observedAt", self.observedAt, self.reportedAt)
        return self


class IntermediaryKind(enum.StrEnum):
    """Kind of intermediary business (中介)."""

    JOB = "JOB"
    MARRIAGE = "MARRIAGE"
    OTHER = "OTHER"


class IntermediaryAction(enum.StrEnum):
    """What the decision does to the intermediary."""

    REVOKED = "REVOKED"
    BANNED = "BANNED"
    REINSTATED = "REINSTATED"


class IntermediaryRevocation(ExchangeModel):
    """Market regulation revokes, bans or reinstates a job or marriage intermediary (Art. 7)."""

    decisionNumber: Identifier
    unifiedSocialCreditCode: SocialCreditCode
    name: Text
    licenceNumber: str | None = None
    kind: IntermediaryKind
    action: IntermediaryAction
    reason: Text
    effectiveDate: date
    issuingUnit: AgencyRef
    reportedAt: AwareDatetime
