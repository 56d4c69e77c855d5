"""Transport-sighting events (Art. 7, 10): a staff member's sighting, the dispatch to the
responsible police unit, and the unit's acknowledgement.

Each class mirrors ``schemas/avro/<full name>.avsc`` field for field.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Self

from pydantic import model_validator

from exchange.models.base import ExchangeModel, Identifier, Text, not_after_report
from exchange.models.common import AgencyRef, Location, PersonDescription
from exchange.models.identifiers import AwareDatetime

__all__ = [
    "DispatchAcknowledgement",
    "DispatchKind",
    "SightingDispatch",
    "TransportSighting",
]


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
        not_after_report("observedAt", self.observedAt, self.reportedAt)
        return self

class DispatchKind(enum.StrEnum):
    """Why a sighting is dispatched to a police unit."""

    RESPOND = "RESPOND"
    INTERCEPT = "INTERCEPT"
    ESCALATION = "ESCALATION"

class SightingDispatch(ExchangeModel):
    """A sighting handed to the one police unit that must act on it, with the rule and reason."""

    dispatchId: Identifier
    sightingId: Identifier
    kind: DispatchKind
    target: AgencyRef
    rule: Identifier
    reason: Text
    flagged: bool = False
    ackDueAt: AwareDatetime
    escalatedFrom: AgencyRef | None = None
    observedAt: AwareDatetime
    location: Location
    reporter: AgencyRef
    suspectedPersons: tuple[PersonDescription, ...]
    situation: Text
    childAtRisk: bool
    destination: str | None = None
    dispatchedAt: AwareDatetime

    @classmethod
    def of(
        cls,
        sighting: TransportSighting,
        *,
        dispatch_id: str,
        kind: DispatchKind,
        target: AgencyRef,
        rule: str,
        reason: str,
        flagged: bool,
        now: datetime,
        deadline: timedelta,
    ) -> SightingDispatch:
        """The dispatch of ``sighting`` to ``target``, due ``deadline`` after ``now``."""
        return cls(
            dispatchId=dispatch_id, sightingId=sighting.sightingId, kind=kind, target=target,
            rule=rule, reason=reason, flagged=flagged, ackDueAt=now + deadline,
            observedAt=sighting.observedAt, location=sighting.location,
            reporter=sighting.reporter, suspectedPersons=sighting.suspectedPersons,
            situation=sighting.situation, childAtRisk=sighting.childAtRisk,
            destination=sighting.destination, dispatchedAt=now,
        )

class DispatchAcknowledgement(ExchangeModel):
    """A police unit confirms it has taken charge of a dispatch."""

    dispatchId: Identifier
    sightingId: Identifier
    unit: AgencyRef
    acknowledgedAt: AwareDatetime
    note: str | None = None
