"""The DNA hand-off (Art. 8, 9): a candidate kinship match opened for verification by the
police units owning the cases it links, decided by one of them, escalated when overdue.

``topology/dna_rules.toml`` holds the verification deadline and what a confirmed match does,
each with its reason. Pure code, no Kafka; the workflow is :mod:`exchange.workflows.dna`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert, ComplianceAlertKind
from exchange.models.dna import (
    DnaComparisonResult,
    DnaSampleCollected,
    DnaSampleKind,
    KinshipVerification,
    KinshipVerificationDecision,
    KinshipVerificationStatus,
)
from exchange.models.missing_persons import MissingPersonReport, MissingPersonStatus
from exchange.models.referrals import VictimNeeds, VictimSituation
from exchange.rules.exceptions import RuleError
from exchange.topology.exceptions import TopologyFileError
from exchange.topology.loader import default_topology_dir
from exchange.topology.toml_file import only_tables, read_toml, validate_table

__all__ = [
    "RULES_FILE",
    "DnaRules",
    "DnaRulesFileError",
    "ReferralPlan",
    "closing_report",
    "decide",
    "load_dna_rules",
    "open_verification",
    "overdue_alert",
    "owners",
]

RULES_FILE = "dna_rules.toml"


class DnaRulesFileError(TopologyFileError):
    """``dna_rules.toml`` cannot be read or is inconsistent."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Defaults(_Frozen):
    legal_basis: str = Field(min_length=1)
    escalate_to: tuple[str, ...] = ()


class Verification(_Frozen):
    verify_hours: float = Field(gt=0)
    reason: str = Field(min_length=1)


class Confirmed(_Frozen):
    close_missing_case: bool
    close_reason: str = Field(min_length=1)


class ReferralPlan(_Frozen):
    """What a confirmed match that finds a missing child starts (see rules.found_child)."""

    found_kinds: tuple[DnaSampleKind, ...] = ()
    situation: VictimSituation = VictimSituation.CHILD_TRAFFICKING
    needs: tuple[str, ...] = ()
    reason: str = Field(min_length=1)

    @field_validator("needs")
    @classmethod
    def _known_needs(cls, needs: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(needs) - set(VictimNeeds.model_fields))
        if unknown:
            raise ValueError(f"unknown VictimNeeds flags {unknown}")
        return needs


@dataclass(frozen=True)
class DnaRules:
    defaults: Defaults
    verification: Verification
    confirmed: Confirmed
    referral_plan: ReferralPlan | None = None


def load_dna_rules(root: Path | None = None) -> DnaRules:
    """Load ``dna_rules.toml`` from ``root`` (default: the topology folder)."""
    file = (default_topology_dir() if root is None else root) / RULES_FILE
    error = DnaRulesFileError
    data = read_toml(file, error)
    only_tables(file, data, ("defaults", "verification", "confirmed", "referral_plan"), error)
    plan = data.get("referral_plan")
    return DnaRules(
        validate_table(file, "defaults", Defaults, data.get("defaults"), error),
        validate_table(file, "verification", Verification, data.get("verification"), error),
        validate_table(file, "confirmed", Confirmed, data.get("confirmed"), error),
        None if plan is None
        else validate_table(file, "referral_plan", ReferralPlan, plan, error),
    )


def open_verification(
    result: DnaComparisonResult, sample: DnaSampleCollected, matched: DnaSampleCollected,
    rules: DnaRules, now: datetime, *, time_scale: float = 1.0,
) -> KinshipVerification:
    """The verification a candidate match opens, linking the two samples' cases."""
    hours = rules.verification.verify_hours
    return KinshipVerification(
        verificationId=result.resultId, status=KinshipVerificationStatus.OPEN,
        sampleId=sample.sampleId, sampleKind=sample.kind, caseId=sample.caseId,
        caseOwner=sample.caseOwner, matchedSampleId=matched.sampleId,
        matchedSampleKind=matched.kind, matchedCaseId=matched.caseId,
        matchedCaseOwner=matched.caseOwner, likelihoodRatio=result.likelihoodRatio or 0.0,
        verifyDueAt=now + timedelta(hours=hours) / time_scale,
        deadlineReason=f"{hours:g} h: {rules.verification.reason}; {rules.defaults.legal_basis}",
        updatedAt=now,
    )  # fmt: skip


def owners(verification: KinshipVerification) -> list[str]:
    """The agencies owning the linked cases, each once."""
    refs = (verification.caseOwner, verification.matchedCaseOwner)
    return list(dict.fromkeys(ref.agencyId for ref in refs))


def decide(
    verification: KinshipVerification, decision: KinshipVerificationDecision
) -> KinshipVerification | None:
    """The verification after ``decision``; None when it was decided before (a repeat)."""
    if decision.decidedBy.agencyId not in owners(verification):
        raise RuleError(
            f"decidedBy.agencyId: {decision.decidedBy.agencyId} owns neither case of "
            f"{verification.verificationId} ({', '.join(owners(verification))}) "
            "[dna-verification-owner]"
        )
    if verification.status is not KinshipVerificationStatus.OPEN:
        return None
    status = KinshipVerificationStatus.CONFIRMED if decision.confirmed else (
        KinshipVerificationStatus.REJECTED)  # fmt: skip
    return verification.model_copy(update={
        "status": status, "decidedBy": decision.decidedBy, "updatedAt": decision.decidedAt,
    })  # fmt: skip


def closing_report(
    report: MissingPersonReport, verification: KinshipVerification, rules: DnaRules,
    now: datetime,
) -> MissingPersonReport | None:
    """The missing-person report closed as FOUND by a confirmed match (None: the rules do not
    close cases, or the case is no longer open)."""
    if not rules.confirmed.close_missing_case or report.status is not MissingPersonStatus.OPEN:
        return None
    by = verification.decidedBy
    unit = (by.unitId or by.agencyId) if by is not None else "?"
    note = (f"{report.circumstances} — FOUND: kinship match {verification.verificationId} "
            f"confirmed by {unit}; {rules.confirmed.close_reason}")
    return report.model_copy(update={
        "status": MissingPersonStatus.FOUND, "circumstances": note, "reportedAt": now,
    })  # fmt: skip


def overdue_alert(
    verification: KinshipVerification, rules: DnaRules, now: datetime
) -> ComplianceAlert:
    """The escalation of a verification not decided by its due time."""
    agencies = dict.fromkeys((*owners(verification), *rules.defaults.escalate_to))
    ident = f"{verification.verificationId}:overdue"
    if len(ident) > 64:
        ident = f"CA-{hashlib.sha256(ident.encode()).hexdigest()[:32]}"
    return ComplianceAlert(
        alertId=ident, kind=ComplianceAlertKind.DNA_VERIFICATION_OVERDUE,
        subject=verification.verificationId, caseId=verification.caseId,
        addressedTo=tuple(AgencyRef(agencyId=a) for a in agencies),
        rule="dna-verification-deadline",
        reason=f"candidate kinship match linking {verification.caseId} and "
        f"{verification.matchedCaseId} not verified before "
        f"{verification.verifyDueAt.isoformat()}; {rules.defaults.legal_basis}",
        raisedAt=now,
    )  # fmt: skip
