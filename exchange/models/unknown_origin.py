"""Children of unknown origin (Art. 9, 来历不明儿童摸排): the report of a school, civil affairs
or health, its dispatch to the police unit of the place, and the police check.

Each class mirrors ``schemas/avro/<full name>.avsc`` field for field.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from typing import Self

from pydantic import model_validator
from pydantic_core import PydanticCustomError

from exchange.models.base import ExchangeModel, Identifier, Text, not_after_report
from exchange.models.common import AgencyRef, Location, PersonDescription
from exchange.models.identifiers import AwareDatetime

__all__ = [
    "UnknownOriginCheck",
    "UnknownOriginCheckOutcome",
    "UnknownOriginChild",
    "UnknownOriginDispatch",
    "UnknownOriginSource",
]


class UnknownOriginSource(enum.StrEnum):
    SCHOOL_ENROLMENT = "SCHOOL_ENROLMENT"
    CIVIL_AFFAIRS = "CIVIL_AFFAIRS"
    HEALTH = "HEALTH"
    OTHER = "OTHER"


class UnknownOriginCheckOutcome(enum.StrEnum):
    ORIGIN_ESTABLISHED = "ORIGIN_ESTABLISHED"
    ORIGIN_UNKNOWN = "ORIGIN_UNKNOWN"
    SUSPECTED_TRAFFICKED = "SUSPECTED_TRAFFICKED"


class UnknownOriginChild(ExchangeModel):
    """A child whose origin cannot be established, as reported."""

    reportId: Identifier
    source: UnknownOriginSource
    reportedBy: AgencyRef
    observedAt: AwareDatetime
    location: Location
    child: PersonDescription
    givenName: str | None = None
    noHouseholdRegistration: bool
    noBirthRecord: bool
    circumstances: Text
    healthNotes: str | None = None
    reportedAt: AwareDatetime

    @model_validator(mode="after")
    def _grounds(self) -> Self:
        if not (self.noHouseholdRegistration or self.noBirthRecord):
            raise PydanticCustomError(
                "unknown_origin_grounds",
                "noHouseholdRegistration or noBirthRecord must be true: a child with both "
                "a registration and a birth record is not of unknown origin",
            )
        not_after_report("observedAt", self.observedAt, self.reportedAt)
        return self


class UnknownOriginDispatch(ExchangeModel):
    """A report handed to the police unit of the place, with its deadline."""

    reportId: Identifier
    target: AgencyRef
    rule: Identifier
    reason: Text
    flagged: bool = False
    checkDueAt: AwareDatetime
    deadlineRule: Identifier
    deadlineReason: Text
    dnaSampleRequested: bool
    source: UnknownOriginSource
    reportedBy: AgencyRef
    observedAt: AwareDatetime
    location: Location
    child: PersonDescription
    givenName: str | None = None
    noHouseholdRegistration: bool
    noBirthRecord: bool
    circumstances: Text
    dispatchedAt: AwareDatetime


class UnknownOriginCheck(ExchangeModel):
    """The police check; unless the origin was established, it names the DNA sample taken."""

    reportId: Identifier
    unit: AgencyRef
    outcome: UnknownOriginCheckOutcome
    dnaSampleId: Identifier | None = None
    finding: Text
    checkedAt: AwareDatetime

    @model_validator(mode="after")
    def _sampled(self) -> Self:
        established = self.outcome is UnknownOriginCheckOutcome.ORIGIN_ESTABLISHED
        if not established and not self.dnaSampleId:
            raise PydanticCustomError(
                "dna_sample_required",
                "dnaSampleId is required when the outcome is {outcome}: a child whose origin "
                "is not established is sampled for the DNA database (Art. 9)",
                {"outcome": self.outcome.value},
            )
        return self
