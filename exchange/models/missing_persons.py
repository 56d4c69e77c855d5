"""Missing-person events (Art. 5, 8, 9): the police report, the emergency alert (CAP 1.2) the
workflow derives from it, and candidate matches between sightings and open cases.

Each class mirrors ``schemas/avro/<full name>.avsc`` field for field.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from typing import Self

from pydantic import model_validator

from exchange.models.base import ExchangeModel, Identifier, Text, not_after_report
from exchange.models.common import AgencyRef, Location, Person
from exchange.models.identifiers import AwareDatetime, PhoneNumber
from exchange.models.rule_errors import rule_error

__all__ = [
    "AlertMessageType",
    "CandidateMatch",
    "EmergencyAlert",
    "MatchFactor",
    "MissingPersonCategory",
    "MissingPersonReport",
    "MissingPersonStatus",
]


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
            raise rule_error(
                "minor_category",
                "category MINOR needs missingPerson.isMinor = true (or choose ADULT/ENDANGERED)",
            )
        not_after_report("lastSeenAt", self.lastSeenAt, self.reportedAt)
        return self

class AlertMessageType(enum.StrEnum):
    """CAP msgType of an alert message."""

    ALERT = "ALERT"
    UPDATE = "UPDATE"
    CANCEL = "CANCEL"

class EmergencyAlert(ExchangeModel):
    """One message of a missing-minor emergency alert, with its CAP 1.2 document."""

    identifier: Identifier
    reference: Identifier
    msgType: AlertMessageType
    sequence: int
    radiusKm: int
    centreLat: float
    centreLon: float
    sent: AwareDatetime
    expires: AwareDatetime | None = None
    facilities: tuple[str, ...] = ()
    cap: Text

class MatchFactor(ExchangeModel):
    """One factor of a match, with its score and reason."""

    factor: Identifier
    score: float
    detail: Text

class CandidateMatch(ExchangeModel):
    """A sighting that may show the person of an open missing-person case."""

    matchId: Identifier
    caseId: Identifier
    sightingId: Identifier
    personIndex: int
    score: float
    factors: tuple[MatchFactor, ...]
    owner: AgencyRef
    sightingLocation: Location
    observedAt: AwareDatetime
    matchedAt: AwareDatetime
