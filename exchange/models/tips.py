"""Tips from the public (Art. 9): the tip, its dispatch to police, the outcome and the reward
eligibility.

Each class mirrors ``schemas/avro/<full name>.avsc`` field for field.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from typing import Self

from pydantic import model_validator

from exchange.models.base import ExchangeModel, Identifier, Text
from exchange.models.common import AgencyRef, Location
from exchange.models.identifiers import AwareDatetime, SocialCreditCode
from exchange.models.rule_errors import rule_error

__all__ = [
    "PublicTip",
    "RewardEligibility",
    "TipChannel",
    "TipDispatch",
    "TipOutcome",
]


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
    caseId: Identifier | None = None
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
    caseId: Identifier | None = None
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
            raise rule_error(
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
