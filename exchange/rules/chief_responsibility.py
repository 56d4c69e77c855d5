"""One chief, three responsibilities (Art. 8, 一长三包责任制): pure rules.

Every child-trafficking case (a missing-minor report) names the chief answerable for it, with
three responsibilities: solving the case (SOLVE, 包破案), rescuing the child (RESCUE, 包解救) and
settling the aftermath (SETTLE, 包善后). Each is ASSIGNED when the case is reported, IN_PROGRESS
once an event worked on it, DISCHARGED once evidence the rules accept fulfilled it.
``topology/chief_responsibility_rules.toml`` says which kinds of evidence move each duty, in
which order duties may be discharged, and why. Events on the bus become evidence here
(:func:`evidence_of`); the unit's own record (``ChiefDutyReport``) is checked by
:func:`record_duty`. :func:`unit_counts` gives the yearly report's figures. No Kafka here: the
workflow is :mod:`exchange.workflows.chief_responsibility`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from exchange.models.chief_responsibility import (
    ChiefDuty,
    ChiefDutyEvidence,
    ChiefDutyEvidenceKind,
    ChiefDutyKind,
    ChiefDutyReport,
    ChiefDutyState,
    ChiefResponsibility,
)
from exchange.models.common import AgencyRef
from exchange.models.dna import DnaComparisonRequest, KinshipVerification, KinshipVerificationStatus
from exchange.models.missing_persons import (
    CandidateMatch,
    MissingPersonCategory,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.models.referrals import Rescue
from exchange.models.tips import TipDispatch
from exchange.rules.exceptions import RuleError
from exchange.topology.exceptions import TopologyFileError
from exchange.topology.loader import default_topology_dir
from exchange.topology.toml_file import only_tables, read_toml, validate_table, validation_error

__all__ = [
    "ChiefRules",
    "ChiefRulesFileError",
    "DutyCounts",
    "Evidence",
    "add_evidence",
    "assign",
    "chief_of",
    "evidence_of",
    "load_chief_rules",
    "record_duty",
    "unit_counts",
    "with_report",
]

RULES_FILE = "chief_responsibility_rules.toml"
Kind = ChiefDutyEvidenceKind


class ChiefRulesFileError(TopologyFileError):
    """``chief_responsibility_rules.toml`` cannot be read or is inconsistent."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Defaults(_Frozen):
    legal_basis: str = Field(min_length=1)
    chief: str = Field(min_length=1)
    max_evidence: int = Field(20, ge=1, le=100)


class DutyRule(_Frozen):
    name: str = Field(min_length=1)
    progress: tuple[ChiefDutyEvidenceKind, ...] = ()
    discharge: tuple[ChiefDutyEvidenceKind, ...] = Field(min_length=1)
    after: tuple[ChiefDutyKind, ...] = ()
    reason: str = Field(min_length=1)


class Duties(_Frozen):
    SOLVE: DutyRule
    RESCUE: DutyRule
    SETTLE: DutyRule

    @model_validator(mode="after")
    def _order(self) -> Duties:
        for kind in ChiefDutyKind:
            if kind in getattr(self, kind.value).after:
                raise ValueError(f"{kind.value}.after: a duty cannot wait for itself")
        return self

    def rule(self, duty: ChiefDutyKind) -> DutyRule:
        rule: DutyRule = getattr(self, duty.value)
        return rule


@dataclass(frozen=True)
class ChiefRules:
    defaults: Defaults
    duties: Duties


def load_chief_rules(root: Path | None = None) -> ChiefRules:
    """Load ``chief_responsibility_rules.toml`` from ``root`` (default: the topology folder)."""
    file = (default_topology_dir() if root is None else root) / RULES_FILE
    error = ChiefRulesFileError
    data = read_toml(file, error)
    only_tables(file, data, ("defaults", "duty"), error)
    defaults = validate_table(file, "defaults", Defaults, data.get("defaults"), error)
    raw = data.get("duty")
    if not isinstance(raw, dict):
        raise error(file, "duty", "missing [duty.SOLVE], [duty.RESCUE], [duty.SETTLE] tables")
    try:
        duties = Duties.model_validate(raw)
    except ValidationError as problem:
        raise validation_error(file, "duty", problem, error) from None
    return ChiefRules(defaults, duties)


@dataclass(frozen=True)
class Evidence:
    """An event's evidence for the case ``case_id``; ``duty``: only for that duty (a unit's
    record), else for every duty whose rules name its kind."""

    case_id: str
    item: ChiefDutyEvidence
    duty: ChiefDutyKind | None = None


def chief_of(unit: AgencyRef, rules: ChiefRules) -> str:
    """The chief answerable for the cases of ``unit`` (the cold-case ledger names them too)."""
    return rules.defaults.chief.format(unit=unit.unitId or unit.agencyId)


def assign(report: MissingPersonReport, rules: ChiefRules) -> ChiefResponsibility | None:
    """The chief and three ASSIGNED duties of a child-trafficking case (None: not one)."""
    if report.category is not MissingPersonCategory.MINOR:
        return None
    unit = report.reportingUnit
    names = "; ".join(f"{d.value} {rules.duties.rule(d).name}" for d in ChiefDutyKind)
    return ChiefResponsibility(
        caseId=report.caseId, unit=unit,
        chief=chief_of(unit, rules), assignedAt=report.reportedAt, caseStatus=report.status,
        duties=tuple(ChiefDuty(duty=d, state=ChiefDutyState.ASSIGNED) for d in ChiefDutyKind),
        reason=f"{names}; {rules.defaults.legal_basis}", updatedAt=report.reportedAt,
    )  # fmt: skip


def _item(at: datetime, kind: Kind, ref: str, summary: str) -> ChiefDutyEvidence:
    return ChiefDutyEvidence(at=at, kind=kind, ref=ref, summary=summary)


def _found(event: MissingPersonReport) -> list[Evidence]:
    if event.status is not MissingPersonStatus.FOUND:
        return []
    return [Evidence(event.caseId, _item(
        event.reportedAt, Kind.CHILD_FOUND, f"{event.caseId}:FOUND", "case closed as FOUND"))]


def _match(event: CandidateMatch) -> list[Evidence]:
    return [Evidence(event.caseId, _item(
        event.matchedAt, Kind.SIGHTING_MATCH, event.matchId,
        f"sighting {event.sightingId} matched (score {event.score:.2f})"))]


def _tip(event: TipDispatch) -> list[Evidence]:
    if event.caseId is None:
        return []
    return [Evidence(event.caseId, _item(
        event.receivedAt, Kind.TIP, event.tipId, f"tip {event.tipId} ({event.channel.value})"))]


def _comparison(event: DnaComparisonRequest) -> list[Evidence]:
    return [Evidence(event.caseId, _item(
        event.requestedAt, Kind.DNA_COMPARISON, event.requestId,
        f"DNA comparison of sample {event.sampleId} requested"))]


def _kinship(event: KinshipVerification) -> list[Evidence]:
    confirmed = event.status is KinshipVerificationStatus.CONFIRMED
    kind = Kind.KINSHIP_CONFIRMED if confirmed else Kind.DNA_COMPARISON
    return [
        Evidence(case_id, _item(
            event.updatedAt, kind, f"{event.verificationId}:{event.status.value}",
            f"kinship match with case {other}: {event.status.value}"))
        for case_id, other in ((event.caseId, event.matchedCaseId),
                               (event.matchedCaseId, event.caseId))
    ]  # fmt: skip


def _rescue(event: Rescue) -> list[Evidence]:
    if event.caseId is None:
        return []
    unit = event.rescuingUnit.unitId or event.rescuingUnit.agencyId
    return [Evidence(event.caseId, _item(
        event.rescuedAt, Kind.RESCUE, event.rescueId, f"rescue {event.rescueId} by {unit}"))]


_EVIDENCE: dict[type, Callable[[Any], list[Evidence]]] = {
    MissingPersonReport: _found, CandidateMatch: _match, TipDispatch: _tip,
    DnaComparisonRequest: _comparison, KinshipVerification: _kinship, Rescue: _rescue,
}  # fmt: skip


def evidence_of(event: object) -> list[Evidence]:
    """The evidence an event on the bus gives the cases it names (none for other events);
    summaries hold identifiers only, never personal data."""
    found = _EVIDENCE.get(type(event))
    return found(event) if found is not None else []


def _discharged(case: ChiefResponsibility, duty: ChiefDutyKind) -> bool:
    return any(d.duty is duty and d.state is ChiefDutyState.DISCHARGED for d in case.duties)


def _waiting_for(case: ChiefResponsibility, duty: ChiefDutyKind,
                 rules: ChiefRules) -> list[ChiefDutyKind]:  # fmt: skip
    return [d for d in rules.duties.rule(duty).after if not _discharged(case, d)]


def _step(case: ChiefResponsibility, duty: ChiefDuty, item: ChiefDutyEvidence,
          rules: ChiefRules) -> ChiefDuty | None:  # fmt: skip
    """``duty`` with ``item`` taken as evidence (None: it does not move this duty)."""
    rule = rules.duties.rule(duty.duty)
    if duty.state is ChiefDutyState.DISCHARGED:
        return None
    if any(old.kind is item.kind and old.ref == item.ref for old in duty.evidence):
        return None
    discharges = item.kind in rule.discharge and not _waiting_for(case, duty.duty, rules)
    if not discharges and item.kind not in (*rule.progress, *rule.discharge):
        return None
    kept = list(duty.evidence)
    while len(kept) >= rules.defaults.max_evidence:
        kept.pop(0)  # the oldest progress (a discharged duty takes no more evidence)
    if discharges:
        return ChiefDuty(duty=duty.duty, state=ChiefDutyState.DISCHARGED,
                         evidence=(*kept, item), dischargedAt=item.at)  # fmt: skip
    return ChiefDuty(duty=duty.duty, state=ChiefDutyState.IN_PROGRESS, evidence=(*kept, item))


def add_evidence(case: ChiefResponsibility, evidence: Evidence,
                 rules: ChiefRules) -> ChiefResponsibility | None:  # fmt: skip
    """``case`` with ``evidence`` applied to each duty it moves, in the order SOLVE, RESCUE,
    SETTLE, so that one event may discharge a duty and move the next (None: nothing moved)."""
    changed = False
    for index, duty in enumerate(case.duties):
        if evidence.duty is not None and duty.duty is not evidence.duty:
            continue
        stepped = _step(case, duty, evidence.item, rules)
        if stepped is not None:
            duties = (*case.duties[:index], stepped, *case.duties[index + 1:])
            case = case.model_copy(update={"duties": duties})
            changed = True
    if not changed:
        return None
    return case.model_copy(update={"updatedAt": max(case.updatedAt, evidence.item.at)})


def with_report(case: ChiefResponsibility, report: MissingPersonReport) -> ChiefResponsibility:
    """``case`` with the status of the case's latest report."""
    if report.status is case.caseStatus:
        return case
    return case.model_copy(update={"caseStatus": report.status,
                                   "updatedAt": max(case.updatedAt, report.reportedAt)})


def record_duty(case: ChiefResponsibility, report: ChiefDutyReport,
                rules: ChiefRules) -> ChiefResponsibility | None:  # fmt: skip
    """``case`` with the unit's own record fulfilling ``report.duty`` (None: recorded before).

    Raises :class:`RuleError` (the record is dead-lettered with it) when the record comes from
    another agency, the rules do not let a unit's record fulfil that duty, or a duty it must
    follow is not discharged yet."""
    duty = report.duty
    if report.reportedBy.agencyId != case.unit.agencyId:
        raise RuleError(
            f"reportedBy.agencyId: {report.reportedBy.agencyId} recorded a responsibility of case "
            f"{case.caseId}, owned by {case.unit.agencyId} [chief-duty-unit]"
        )
    rule = rules.duties.rule(duty)
    if Kind.UNIT_RECORD not in rule.discharge:
        accepted = ", ".join(k.value for k in rule.discharge)
        raise RuleError(
            f"duty: {duty.value} ({rule.name}) is fulfilled by {accepted}, not by the unit's "
            f"record: {rule.reason} [chief-duty-evidence]"
        )
    waiting = _waiting_for(case, duty, rules)
    if waiting:
        names = ", ".join(w.value for w in waiting)
        raise RuleError(
            f"duty: {duty.value} cannot be fulfilled before {names} of case {case.caseId}: "
            f"{rule.reason} [chief-duty-order]"
        )
    unit = report.reportedBy.unitId or report.reportedBy.agencyId
    item = _item(report.reportedAt, Kind.UNIT_RECORD, report.recordRef,
                 f"record {report.recordRef} of {unit}")
    return add_evidence(case, Evidence(case.caseId, item, duty), rules)


@dataclass
class DutyCounts:
    """A unit's (agency's) child-trafficking cases and how many of each duty were discharged in
    the period; ``fulfilled``: cases whose three duties are all discharged."""

    cases: int = 0
    solved: int = 0
    rescued: int = 0
    settled: int = 0
    fulfilled: int = 0


_COUNTED = {ChiefDutyKind.SOLVE: "solved", ChiefDutyKind.RESCUE: "rescued",
            ChiefDutyKind.SETTLE: "settled"}  # fmt: skip


def unit_counts(cases: Iterable[ChiefResponsibility], start: datetime | None = None,
                end: datetime | None = None) -> dict[str, DutyCounts]:  # fmt: skip
    """Per agency of the owning unit: its cases (the latest entry per case id) and the duties
    discharged in ``[start, end)`` (any time when not given)."""
    latest: dict[str, ChiefResponsibility] = {}
    for case in cases:
        old = latest.get(case.caseId)
        if old is None or case.updatedAt >= old.updatedAt:
            latest[case.caseId] = case
    counts: dict[str, DutyCounts] = {}
    for case in latest.values():
        row = counts.setdefault(case.unit.agencyId, DutyCounts())
        row.cases += 1
        done = 0
        for duty in case.duties:
            at = duty.dischargedAt
            if duty.state is not ChiefDutyState.DISCHARGED or at is None:
                continue
            if end is not None and at >= end:
                continue
            done += 1
            if start is None or at >= start:
                name = _COUNTED[duty.duty]
                setattr(row, name, getattr(row, name) + 1)
        row.fulfilled += done == len(ChiefDutyKind)
    return counts
