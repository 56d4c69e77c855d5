"""One chief, three responsibilities (Art. 8, 一长三包责任制): the chief answerable for each
child-trafficking case, the state of its three responsibilities (solving the case, rescuing the
child, settling the aftermath) with their evidence, and the unit's own record fulfilling one.

Each class mirrors ``schemas/avro/<full name>.avsc`` field for field.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum

from exchange.models.base import ExchangeModel, Identifier, Text
from exchange.models.common import AgencyRef
from exchange.models.identifiers import AwareDatetime
from exchange.models.missing_persons import MissingPersonStatus

__all__ = [
    "ChiefDuty",
    "ChiefDutyEvidence",
    "ChiefDutyEvidenceKind",
    "ChiefDutyKind",
    "ChiefDutyReport",
    "ChiefDutyState",
    "ChiefResponsibility",
]


class ChiefDutyKind(enum.StrEnum):
    SOLVE = "SOLVE"
    RESCUE = "RESCUE"
    SETTLE = "SETTLE"


class ChiefDutyState(enum.StrEnum):
    ASSIGNED = "ASSIGNED"
    IN_PROGRESS = "IN_PROGRESS"
    DISCHARGED = "DISCHARGED"


class ChiefDutyEvidenceKind(enum.StrEnum):
    SIGHTING_MATCH = "SIGHTING_MATCH"
    TIP = "TIP"
    DNA_COMPARISON = "DNA_COMPARISON"
    KINSHIP_CONFIRMED = "KINSHIP_CONFIRMED"
    CHILD_FOUND = "CHILD_FOUND"
    RESCUE = "RESCUE"
    UNIT_RECORD = "UNIT_RECORD"
    OTHER = "OTHER"


class ChiefDutyEvidence(ExchangeModel):
    """One event that worked on or fulfilled a responsibility."""

    at: AwareDatetime
    kind: ChiefDutyEvidenceKind
    ref: Identifier
    summary: Text


class ChiefDuty(ExchangeModel):
    """One responsibility, its state and its evidence."""

    duty: ChiefDutyKind
    state: ChiefDutyState
    evidence: tuple[ChiefDutyEvidence, ...] = ()
    dischargedAt: AwareDatetime | None = None


class ChiefResponsibility(ExchangeModel):
    """A case's chief and three responsibilities (the latest per case id, compacted)."""

    caseId: Identifier
    unit: AgencyRef
    chief: Text
    assignedAt: AwareDatetime
    caseStatus: MissingPersonStatus
    duties: tuple[ChiefDuty, ...]
    reason: Text
    updatedAt: AwareDatetime


class ChiefDutyReport(ExchangeModel):
    """The case-owning unit's own record fulfilling one responsibility."""

    caseId: Identifier
    duty: ChiefDutyKind
    reportedBy: AgencyRef
    recordRef: Identifier
    summary: Text
    reportedAt: AwareDatetime
