"""Events the workflows publish besides dispatches: emergency alerts (CAP 1.2) and candidate
matches between sightings and open missing-person cases."""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum

from exchange.models.base import ExchangeModel, Identifier, Text
from exchange.models.common import AgencyRef, Location
from exchange.models.identifiers import AwareDatetime

__all__ = ["AlertMessageType", "CandidateMatch", "EmergencyAlert", "MatchFactor"]


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
