"""The cold-case ledger (Art. 9, 积案信息台账) and its chief (Art. 8, 一长三包): pure rules.

``topology/cold_case_rules.toml`` says when an open missing-minor case enters the ledger, how
often it is reviewed and who its chief is, each with its reason. No Kafka here: the workflow
is :mod:`exchange.workflows.cold_cases`, the reader ``exchange cases cold``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from exchange.models.cold_cases import ColdCase, ColdCaseLead, ColdCaseLeadKind, ColdCaseReview
from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert, ComplianceAlertKind
from exchange.models.dna import DnaComparisonRequest, KinshipVerification
from exchange.models.missing_persons import (
    MissingPersonCategory,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.models.tips import TipDispatch
from exchange.rules.exceptions import RuleError
from exchange.topology.exceptions import TopologyFileError
from exchange.topology.loader import default_topology_dir
from exchange.topology.toml_file import only_tables, read_toml, validate_table

__all__ = [
    "ColdCaseRules",
    "ColdCaseRulesFileError",
    "add_lead",
    "dna_leads",
    "enter_ledger",
    "enters_ledger_at",
    "investigator_view",
    "leads_since_review",
    "load_cold_case_rules",
    "overdue_alert",
    "record_review",
    "tip_lead",
]

RULES_FILE = "cold_case_rules.toml"


class ColdCaseRulesFileError(TopologyFileError):
    """``cold_case_rules.toml`` cannot be read or is inconsistent."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Defaults(_Frozen):
    legal_basis: str = Field(min_length=1)
    escalate_to: tuple[str, ...] = ()


class Ledger(_Frozen):
    open_days: float = Field(gt=0)
    open_reason: str = Field(min_length=1)
    review_days: float = Field(gt=0)
    review_reason: str = Field(min_length=1)
    chief: str = Field(min_length=1)


@dataclass(frozen=True)
class ColdCaseRules:
    defaults: Defaults
    ledger: Ledger
    time_scale: float = 1.0

    def days(self, days: float) -> timedelta:
        return timedelta(days=days) / self.time_scale


def load_cold_case_rules(root: Path | None = None, *, time_scale: float = 1.0) -> ColdCaseRules:
    """Load ``cold_case_rules.toml`` from ``root`` (default: the topology folder); periods are
    divided by ``time_scale`` (tests, demonstrations)."""
    file = (default_topology_dir() if root is None else root) / RULES_FILE
    error = ColdCaseRulesFileError
    data = read_toml(file, error)
    only_tables(file, data, ("defaults", "ledger"), error)
    return ColdCaseRules(
        validate_table(file, "defaults", Defaults, data.get("defaults"), error),
        validate_table(file, "ledger", Ledger, data.get("ledger"), error),
        time_scale,
    )


def enters_ledger_at(report: MissingPersonReport, rules: ColdCaseRules) -> datetime | None:
    """When an open missing-minor case becomes a cold case (None: it never does)."""
    if report.category is not MissingPersonCategory.MINOR:
        return None
    if report.status is not MissingPersonStatus.OPEN:
        return None
    return report.lastSeenAt + rules.days(rules.ledger.open_days)


def enter_ledger(report: MissingPersonReport, rules: ColdCaseRules, now: datetime) -> ColdCase:
    unit = report.reportingUnit
    ledger = rules.ledger
    return ColdCase(
        caseId=report.caseId, unit=unit,
        chief=ledger.chief.format(unit=unit.unitId or unit.agencyId),
        lastSeenAt=report.lastSeenAt, enteredAt=now,
        nextReviewDue=now + rules.days(ledger.review_days),
        reason=f"open {ledger.open_days:g} days: {ledger.open_reason}; review every "
        f"{ledger.review_days:g} days: {ledger.review_reason}; {rules.defaults.legal_basis}",
        updatedAt=now,
    )  # fmt: skip


def add_lead(case: ColdCase, lead: ColdCaseLead) -> ColdCase | None:
    """``case`` with ``lead`` appended (None: that lead is there already)."""
    if any(old.ref == lead.ref and old.kind is lead.kind for old in case.leads):
        return None
    return case.model_copy(update={"leads": (*case.leads, lead), "updatedAt": lead.at})


def tip_lead(dispatch: TipDispatch) -> tuple[str, ColdCaseLead] | None:
    """The lead a tip naming a case adds to it (None: the tip names no case)."""
    if dispatch.caseId is None:
        return None
    target = dispatch.target.unitId or dispatch.target.agencyId
    return dispatch.caseId, ColdCaseLead(
        at=dispatch.receivedAt, kind=ColdCaseLeadKind.TIP, ref=dispatch.tipId,
        summary=f"tip {dispatch.tipId} ({dispatch.channel.value}) sent to {target}",
    )  # fmt: skip


def dna_leads(
    event: KinshipVerification | DnaComparisonRequest,
) -> list[tuple[str, ColdCaseLead]]:
    """The leads a DNA comparison adds to each case it names (the case of a sample compared,
    or both cases a candidate kinship match links, at each step of its verification)."""
    if isinstance(event, DnaComparisonRequest):
        lead = ColdCaseLead(
            at=event.requestedAt, kind=ColdCaseLeadKind.DNA_COMPARISON, ref=event.requestId,
            summary=f"DNA comparison of sample {event.sampleId} requested",
        )  # fmt: skip
        return [(event.caseId, lead)]
    status = event.status.value
    leads = []
    for case_id, other in ((event.caseId, event.matchedCaseId),
                           (event.matchedCaseId, event.caseId)):  # fmt: skip
        leads.append((case_id, ColdCaseLead(
            at=event.updatedAt, kind=ColdCaseLeadKind.DNA_COMPARISON,
            ref=f"{event.verificationId}:{status}",
            summary=f"kinship match with case {other} (likelihood ratio "
            f"{event.likelihoodRatio:.3g}): {status}",
        )))  # fmt: skip
    return leads


def record_review(case: ColdCase, review: ColdCaseReview, rules: ColdCaseRules) -> ColdCase:
    """``case`` after ``review`` by its unit: next review due, no longer overdue."""
    if review.reviewedBy.agencyId != case.unit.agencyId:
        raise RuleError(
            f"reviewedBy.agencyId: {review.reviewedBy.agencyId} reviewed case {case.caseId} "
            f"of {case.unit.agencyId} [cold-case-unit]"
        )
    lead = ColdCaseLead(
        at=review.reviewedAt, kind=ColdCaseLeadKind.REVIEW,
        ref=f"review:{review.reviewedAt.isoformat()}", summary=review.summary,
    )  # fmt: skip
    return case.model_copy(update={
        "lastReviewAt": review.reviewedAt, "reviews": case.reviews + 1,
        "nextReviewDue": review.reviewedAt + rules.days(rules.ledger.review_days),
        "reviewOverdue": False, "leads": (*case.leads, lead), "updatedAt": review.reviewedAt,
    })  # fmt: skip


def overdue_alert(case: ColdCase, rules: ColdCaseRules, now: datetime) -> ComplianceAlert:
    """The escalation, to the unit's agency (its chief) and the joint-meeting office, of a
    review not recorded by its due date (one per due date)."""
    agencies = dict.fromkeys((case.unit.agencyId, *rules.defaults.escalate_to))
    ident = f"{case.caseId}:review:{case.nextReviewDue.isoformat()}"
    if len(ident) > 64:
        ident = f"CA-{hashlib.sha256(ident.encode()).hexdigest()[:32]}"
    return ComplianceAlert(
        alertId=ident, kind=ComplianceAlertKind.COLD_CASE_REVIEW_OVERDUE, subject=case.caseId,
        caseId=case.caseId, addressedTo=tuple(AgencyRef(agencyId=a) for a in agencies),
        rule="cold-case-review",
        reason=f"cold case of {case.unit.unitId or case.unit.agencyId} not reviewed by "
        f"{case.nextReviewDue.isoformat()}; answerable: {case.chief}; "
        f"{rules.defaults.legal_basis}",
        raisedAt=now,
    )  # fmt: skip


def leads_since_review(case: ColdCase) -> list[ColdCaseLead]:
    since = case.lastReviewAt
    return [
        lead for lead in case.leads
        if lead.kind is not ColdCaseLeadKind.REVIEW and (since is None or lead.at > since)
    ]  # fmt: skip


def investigator_view(
    cases: Iterable[ColdCase], now: datetime, unit: str | None = None
) -> list[ColdCase]:
    """Open cold cases as an investigator reads them: overdue reviews first (the most overdue
    first), then by next review due; only ``unit``'s (unit or agency id) when given."""
    chosen = [
        c for c in cases
        if not c.closed and (unit is None or unit in {c.unit.unitId, c.unit.agencyId})
    ]  # fmt: skip
    return sorted(chosen, key=lambda c: (not (c.reviewOverdue or c.nextReviewDue < now),
                                         c.nextReviewDue))
