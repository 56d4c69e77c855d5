"""Follow-up visits of rescued people by the residence police station (Art. 6: a follow-up file
on how they live): the visits a FOLLOW_UP referral schedules, recording them, and the missed ones.

Pure code. The schedule (days after the referral is issued, and the grace after each) is data,
``[follow_up]`` in ``topology/referral_rules.toml``. A visit is *missed* when it is still not
recorded ``grace`` after its due time; it is escalated once (a ``ComplianceAlert`` to the
joint-meeting office and the police), and a visit recorded afterwards is kept as late.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert, ComplianceAlertKind
from exchange.models.referrals import FollowUpVisit, ReferralState
from exchange.rules.exceptions import ReferralStepError

__all__ = ["FollowUpPlan", "Visit", "VisitState", "escalate_missed", "record", "schedule"]

CST = timezone(timedelta(hours=8))


class FollowUpPlan(BaseModel):
    """``[follow_up]`` of the rules file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    visits_days: tuple[int, ...] = Field(min_length=1)
    grace_days: int = Field(ge=0)


class VisitState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    MISSED = "missed"  # escalated; a later record makes it late
    LATE = "late"


@dataclass(frozen=True)
class Visit:
    number: int
    due: datetime
    deadline: datetime
    state: VisitState = VisitState.PENDING


def schedule(plan: FollowUpPlan, issued_at: datetime, time_scale: float = 1.0) -> tuple[Visit, ...]:
    grace = timedelta(days=plan.grace_days) / time_scale
    return tuple(
        Visit(n, due, due + grace)
        for n, days in enumerate(plan.visits_days, start=1)
        for due in [issued_at + timedelta(days=days) / time_scale]
    )


def record(
    state: ReferralState, visits: tuple[Visit, ...], visit: FollowUpVisit
) -> tuple[Visit, ...] | None:
    """The visits after ``visit`` is recorded; None when it was recorded before. Raises
    :class:`ReferralStepError` for another unit's record or a visit not scheduled."""
    ident = state.referralId
    if visit.unit.agencyId != state.toAgency.agencyId:
        raise ReferralStepError(ident, "unit.agencyId", "follow-up-addressee",
                                f"{visit.unit.agencyId} recorded a visit of "
                                f"{state.toAgency.unitId or state.toAgency.agencyId}")
    if not 1 <= visit.visit <= len(visits):
        raise ReferralStepError(ident, "visit", "follow-up-schedule",
                                f"visit {visit.visit} is not scheduled (1 to {len(visits)})")
    current = visits[visit.visit - 1]
    if current.state in (VisitState.DONE, VisitState.LATE):
        return None
    done = VisitState.LATE if current.state is VisitState.MISSED else VisitState.DONE
    return tuple(replace(v, state=done) if v.number == visit.visit else v for v in visits)


def escalate_missed(
    state: ReferralState, visits: tuple[Visit, ...], now: datetime
) -> tuple[tuple[Visit, ...], list[ComplianceAlert]]:
    """The visits with every pending one past its deadline marked missed, and their alerts."""
    alerts = []
    marked = []
    for visit in visits:
        v = visit
        if v.state is VisitState.PENDING and now > v.deadline:
            v = replace(v, state=VisitState.MISSED)
            unit = state.toAgency.unitId or state.toAgency.agencyId
            alerts.append(ComplianceAlert(
                alertId=f"{state.referralId}:visit{v.number}"[-64:],
                kind=ComplianceAlertKind.FOLLOW_UP_MISSED, subject=state.referralId,
                caseId=state.caseId,
                addressedTo=(AgencyRef(agencyId="joint-meeting-office"),
                             AgencyRef(agencyId=state.toAgency.agencyId)),
                rule="follow-up-visit",
                reason=f"follow-up visit {v.number} by {unit} due "
                f"{v.due.astimezone(CST).isoformat(timespec='minutes')} not recorded by "
                f"{v.deadline.astimezone(CST).isoformat(timespec='minutes')} "
                "(西安市反拐实施细则 第六条, Art. 6)",
                raisedAt=now,
            ))  # fmt: skip
        marked.append(v)
    return tuple(marked), alerts


def next_deadline(visits: tuple[Visit, ...]) -> datetime | None:
    pending = [v.deadline for v in visits if v.state is VisitState.PENDING]
    return min(pending) if pending else None
