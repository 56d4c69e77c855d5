"""Events of the other flows the rules name (Art. 7, 8, 9): job placements through
intermediaries, an abandoned infant's DNA sample and welfare intake, public tips with their
dispatch, outcome and reward eligibility."""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from typing import Annotated, Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from exchange.models.base import ExchangeModel, Identifier, Text
from exchange.models.common import AgencyRef, Location
from exchange.models.identifiers import AwareDatetime, RegionCode, SocialCreditCode

__all__ = [
    "InfantCustodyEvent",
    "InfantCustodyStep",
    "JobPlacement",
    "PublicTip",
    "RewardEligibility",
    "TipChannel",
    "TipDispatch",
    "TipOutcome",
]


class JobPlacement(ExchangeModel):
    """A job placement made through an intermediary, recorded by human resources."""

    placementId: Identifier
    intermediaryCode: SocialCreditCode
    intermediaryName: str | None = None
    workers: Annotated[int, Field(ge=1)]
    regionCode: RegionCode | None = None
    placedAt: AwareDatetime
    recordingUnit: AgencyRef
    reportedAt: AwareDatetime


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
            raise PydanticCustomError(
                "infant_dna_reference",
                "a DNA_SAMPLE_COLLECTED step needs dnaDatabaseRef (the DNA database entry)",
            )
        if sample and (self.dnaSampleEventId or self.institution):
            raise PydanticCustomError(
                "infant_step_fields",
                "dnaSampleEventId and institution belong to a WELFARE_INTAKE step",
            )
        if not sample and not self.institution:
            raise PydanticCustomError(
                "infant_institution", "a WELFARE_INTAKE step names the institution"
            )
        return self


class TipChannel(enum.StrEnum):
    HOTLINE = "HOTLINE"
    MAILBOX = "MAILBOX"
    APP = "APP"
    OTHER = "OTHER"


class PublicTip(ExchangeModel):
    """A tip from the public about suspected trafficking (Art. 9)."""

    tipId: Identifier
    channel: TipChannel
    receivedAt: AwareDatetime
    location: Location
    summary: Text
    childAtRisk: bool = False
    intermediaryCode: SocialCreditCode | None = None
    tipsterContact: str | None = None
    receivedBy: AgencyRef
    reportedAt: AwareDatetime


class TipDispatch(ExchangeModel):
    """A tip handed to the responsible police unit (no tipster contact)."""

    tipId: Identifier
    target: AgencyRef
    rule: Identifier
    reason: Text
    flagged: bool = False
    channel: TipChannel
    receivedAt: AwareDatetime
    location: Location
    summary: Text
    childAtRisk: bool = False
    intermediaryCode: str | None = None
    dispatchedAt: AwareDatetime


class TipOutcome(ExchangeModel):
    """What a dispatched tip led to, reported by the police unit."""

    tipId: Identifier
    ledToResult: bool
    result: str | None = None
    unit: AgencyRef
    decidedAt: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.ledToResult and not (self.result and self.result.strip()):
            raise PydanticCustomError(
                "tip_result", "ledToResult = true needs result (what the tip led to)"
            )
        return self


class RewardEligibility(ExchangeModel):
    """A tip that led to a result, eligible for a reward."""

    tipId: Identifier
    channel: TipChannel
    result: Text
    unit: AgencyRef
    tipsterReachable: bool
    receivedBy: AgencyRef
    eligibleAt: AwareDatetime
