"""Children of unknown origin (Art. 9): which police unit checks a report, by when, and why.

``topology/unknown_origin_rules.toml`` holds the deadlines and their reasons (see its header).
Pure code, no Kafka: :func:`dispatch_report` routes a report by the sighting rules
(:func:`exchange.rules.routing.route_sighting`, the report seen as a sighting of its place) and
picks the first deadline that applies; :func:`unchecked_alert` is the escalation of a report
not checked in time. Reasons name only the conditions, never the child's name or description.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert, ComplianceAlertKind
from exchange.models.sightings import TransportSighting
from exchange.models.unknown_origin import (
    UnknownOriginChild,
    UnknownOriginDispatch,
    UnknownOriginSource,
)
from exchange.rules.jurisdiction import Jurisdiction
from exchange.rules.routing import route_sighting
from exchange.topology.exceptions import TopologyFileError
from exchange.topology.loader import default_topology_dir
from exchange.topology.toml_file import only_tables, read_toml, validate_table

__all__ = [
    "RULES_FILE",
    "Deadline",
    "UnknownOriginRules",
    "UnknownOriginRulesFileError",
    "apparent_age",
    "dispatch_report",
    "load_unknown_origin_rules",
    "unchecked_alert",
]

RULES_FILE = "unknown_origin_rules.toml"


class UnknownOriginRulesFileError(TopologyFileError):
    """``unknown_origin_rules.toml`` cannot be read or is inconsistent."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Defaults(_Frozen):
    legal_basis: str = Field(min_length=1)
    dna_sample: bool
    dna_reason: str = Field(min_length=1)
    escalate_to: tuple[str, ...] = ()


class Deadline(_Frozen):
    """One ``[[deadline]]``: applies when every condition given holds."""

    id: str = Field(min_length=1, pattern=r"^\S+$")
    check_hours: float = Field(gt=0)
    reason: str = Field(min_length=1)
    source: UnknownOriginSource | None = None
    max_age: int | None = Field(None, ge=0, le=18)

    def applies(self, report: UnknownOriginChild) -> bool:
        if self.source is not None and report.source is not self.source:
            return False
        if self.max_age is not None:
            age = apparent_age(report)
            return age is None or age <= self.max_age
        return True


@dataclass(frozen=True)
class UnknownOriginRules:
    defaults: Defaults
    deadlines: tuple[Deadline, ...]

    def deadline_for(self, report: UnknownOriginChild) -> Deadline:
        return next(d for d in self.deadlines if d.applies(report))  # the last always applies


def apparent_age(report: UnknownOriginChild) -> int | None:
    """The child's age in years as described (the top of a range: the older guess)."""
    child = report.child
    if child.ageYears is not None:
        return child.ageYears
    return child.ageRange.max if child.ageRange is not None else None


def load_unknown_origin_rules(root: Path | None = None) -> UnknownOriginRules:
    """Load ``unknown_origin_rules.toml`` from ``root`` (default: the topology folder)."""
    file = (default_topology_dir() if root is None else root) / RULES_FILE
    error = UnknownOriginRulesFileError
    data = read_toml(file, error)
    only_tables(file, data, ("defaults", "deadline"), error)
    defaults = validate_table(file, "defaults", Defaults, data.get("defaults"), error)
    raws = data.get("deadline")
    if not isinstance(raws, list) or not raws:
        raise error(file, "deadline", "expected [[deadline]] tables")
    deadlines = tuple(
        validate_table(file, f"deadline[{raw.get('id', i)}]", Deadline, raw, error)
        for i, raw in enumerate(raws)
    )
    ids = [d.id for d in deadlines]
    if len(set(ids)) != len(ids):
        raise error(file, "deadline", f"a deadline id is used twice in {ids}")
    last = deadlines[-1]
    if last.source is not None or last.max_age is not None:
        raise error(file, f"deadline[{last.id}]", "the last deadline must have no condition")
    return UnknownOriginRules(defaults, deadlines)


def dispatch_report(
    report: UnknownOriginChild, rules: UnknownOriginRules, jurisdiction: Jurisdiction,
    now: datetime, time_scale: float = 1.0,
) -> UnknownOriginDispatch:
    """Where ``report`` goes, by when it must be checked, and why (pure)."""
    as_sighting = TransportSighting(
        sightingId=report.reportId, observedAt=report.observedAt, location=report.location,
        reporter=report.reportedBy, situation=report.circumstances, childAtRisk=True,
        reportedAt=report.reportedAt,
    )  # fmt: skip
    decision = route_sighting(as_sighting, jurisdiction)
    deadline = rules.deadline_for(report)
    due = now + timedelta(hours=deadline.check_hours) / time_scale
    dna = rules.defaults.dna_reason if rules.defaults.dna_sample else "no DNA sample required"
    return UnknownOriginDispatch(
        reportId=report.reportId,
        target=AgencyRef(agencyId=decision.target.agency_id, unitId=decision.target.unit_id),
        rule=decision.rule, reason=decision.reason, flagged=decision.flagged,
        checkDueAt=due, deadlineRule=deadline.id,
        deadlineReason=f"{deadline.check_hours:g} h: {deadline.reason}; "
        f"{rules.defaults.legal_basis}; DNA: {dna}",
        dnaSampleRequested=rules.defaults.dna_sample, source=report.source,
        reportedBy=report.reportedBy, observedAt=report.observedAt, location=report.location,
        child=report.child, givenName=report.givenName,
        noHouseholdRegistration=report.noHouseholdRegistration,
        noBirthRecord=report.noBirthRecord, circumstances=report.circumstances,
        dispatchedAt=now,
    )  # fmt: skip


def _short(text: str) -> str:
    """``text`` as an identifier (64 characters at most: a digest when longer)."""
    return text if len(text) <= 64 else f"CA-{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def unchecked_alert(
    dispatch: UnknownOriginDispatch, rules: UnknownOriginRules, now: datetime
) -> ComplianceAlert:
    """The escalation of a report whose check was not recorded by ``checkDueAt``."""
    agencies = dict.fromkeys((dispatch.target.agencyId, *rules.defaults.escalate_to))
    unit = dispatch.target.unitId or dispatch.target.agencyId
    return ComplianceAlert(
        alertId=_short(f"{dispatch.reportId}:unchecked"),
        kind=ComplianceAlertKind.UNKNOWN_ORIGIN_UNCHECKED,
        subject=dispatch.reportId, addressedTo=tuple(AgencyRef(agencyId=a) for a in agencies),
        rule=f"unknown-origin-{dispatch.deadlineRule}",
        reason=f"child of unknown origin reported by {dispatch.reportedBy.agencyId} not checked "
        f"by {unit} before {dispatch.checkDueAt.isoformat()} "
        f"(deadline {dispatch.deadlineRule}); {rules.defaults.legal_basis}",
        raisedAt=now,
    )  # fmt: skip
