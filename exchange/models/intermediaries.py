"""Illegal intermediaries (Art. 7): market regulation's revocation of a job or marriage
agency, and HR's job placements through intermediaries.

Each class mirrors ``schemas/avro/<full name>.avsc`` field for field.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated

from pydantic import Field

from exchange.models.base import ExchangeModel, Identifier, Text
from exchange.models.common import AgencyRef
from exchange.models.identifiers import AwareDatetime, RegionCode, SocialCreditCode

__all__ = [
    "IntermediaryAction",
    "IntermediaryKind",
    "IntermediaryRevocation",
    "JobPlacement",
]


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
