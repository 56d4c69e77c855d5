"""Abandoned infants (Art. 8): the DNA sample police take before the welfare intake.

Each class mirrors ``schemas/avro/<full name>.avsc`` field for field.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from typing import Self

from pydantic import model_validator

from exchange.models.base import ExchangeModel, Identifier
from exchange.models.common import AgencyRef
from exchange.models.identifiers import AwareDatetime
from exchange.models.rule_errors import rule_error

__all__ = [
    "InfantCustodyEvent",
    "InfantCustodyStep",
]


class InfantCustodyStep(enum.StrEnum):
    """DNA sample by the police, then intake by a welfare institution."""

    DNA_SAMPLE_COLLECTED = "DNA_SAMPLE_COLLECTED"
    WELFARE_INTAKE = "WELFARE_INTAKE"

class InfantCustodyEvent(ExchangeModel):
    """One step of an abandoned infant's custody (Art. 8)."""

    eventId: Identifier
    caseId: Identifier
    step: InfantCustodyStep
    dnaSampleEventId: Identifier | None = None
    dnaDatabaseRef: str | None = None
    institution: str | None = None
    unit: AgencyRef
    at: AwareDatetime
    reportedAt: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        sample = self.step is InfantCustodyStep.DNA_SAMPLE_COLLECTED
        if sample and not self.dnaDatabaseRef:
            raise rule_error(
                "infant_dna_reference",
                "a DNA_SAMPLE_COLLECTED step needs dnaDatabaseRef (the DNA database entry)",
            )
        if sample and (self.dnaSampleEventId or self.institution):
            raise rule_error(
                "infant_step_fields",
                "dnaSampleEventId and institution belong to a WELFARE_INTAKE step",
            )
        if not sample and not self.institution:
            raise rule_error(
                "infant_institution", "a WELFARE_INTAKE step names the institution"
            )
        return self
