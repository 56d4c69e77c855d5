"""Yearly reporting (Art. 12): a member unit's or district office's confirmation of its report.

Each class mirrors ``schemas/avro/<full name>.avsc`` field for field.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from typing import Annotated, Self

from pydantic import Field, model_validator

from exchange.models.base import ExchangeModel
from exchange.models.common import AgencyRef
from exchange.models.identifiers import AwareDatetime, RegionCode
from exchange.models.rule_errors import rule_error

__all__ = [
    "ReportConfirmation",
    "ReportLevel",
]


class ReportLevel(enum.StrEnum):
    """A member unit (deadline 15 December) or a district office (20 December), Art. 12."""

    MEMBER_UNIT = "MEMBER_UNIT"
    DISTRICT_OFFICE = "DISTRICT_OFFICE"

class ReportConfirmation(ExchangeModel):
    """A member unit or district office confirms its yearly report."""

    year: Annotated[int, Field(ge=2000, le=2100)]
    level: ReportLevel
    agency: AgencyRef
    regionCode: RegionCode | None = None
    confirmedAt: AwareDatetime

    @model_validator(mode="after")
    def _district(self) -> Self:
        if (self.level is ReportLevel.DISTRICT_OFFICE) != (self.regionCode is not None):
            raise rule_error(
                "report_region", "regionCode is given exactly for a DISTRICT_OFFICE confirmation"
            )
        return self
