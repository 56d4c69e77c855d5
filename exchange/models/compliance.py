"""Compliance alerts the workflows raise when a rule of the Xi'an rules is not met.

Each class mirrors ``schemas/avro/<full name>.avsc`` field for field.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum

from exchange.models.base import ExchangeModel, Identifier, Text
from exchange.models.common import AgencyRef
from exchange.models.identifiers import AwareDatetime

__all__ = [
    "ComplianceAlert",
    "ComplianceAlertKind",
]


class ComplianceAlertKind(enum.StrEnum):
    """Which rule a compliance alert is about."""

    REFERRAL_OVERDUE = "REFERRAL_OVERDUE"
    FOLLOW_UP_MISSED = "FOLLOW_UP_MISSED"
    REVOKED_INTERMEDIARY_NAMED = "REVOKED_INTERMEDIARY_NAMED"
    INFANT_WITHOUT_DNA_SAMPLE = "INFANT_WITHOUT_DNA_SAMPLE"
    REPORT_NOT_CONFIRMED = "REPORT_NOT_CONFIRMED"
    UNKNOWN_ORIGIN_UNCHECKED = "UNKNOWN_ORIGIN_UNCHECKED"
    DNA_VERIFICATION_OVERDUE = "DNA_VERIFICATION_OVERDUE"
    COLD_CASE_REVIEW_OVERDUE = "COLD_CASE_REVIEW_OVERDUE"
    OTHER = "OTHER"

class ComplianceAlert(ExchangeModel):
    """A rule not met, sent to every agency that must act."""

    alertId: Identifier
    kind: ComplianceAlertKind
    subject: Identifier
    caseId: Identifier | None = None
    addressedTo: tuple[AgencyRef, ...]
    rule: Identifier
    reason: Text
    raisedAt: AwareDatetime
