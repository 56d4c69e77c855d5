"""A referral's lifecycle: issued → accepted → in progress → completed, or declined (with a
reason), or transferred to another agency; overdue when still open after its due time.

Pure code, no Kafka (the workflow in :mod:`exchange.workflows.referrals` stores and sends):
:func:`issue` turns a planned referral into the ``Referral`` sent to the agency's inbox and the
board's ``ReferralState``; :func:`apply_update` checks a ``ReferralUpdate`` against the lifecycle
(:data:`TRANSITIONS`) and the addressee, and returns the new state (and, for a transfer, the new
referral to the agency taking over); :func:`escalate` marks an overdue referral and builds the
``ComplianceAlert`` to the joint-meeting office and the agency.

Referral ids derive from the rescue id, the person's index and the purpose, so a replayed rescue
issues the same referrals (and the table already knows them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert, ComplianceAlertKind
from exchange.models.referrals import (
    OPEN_STATUSES,
    Referral,
    ReferralState,
    ReferralStatus,
    ReferralUpdate,
    Rescue,
)
from exchange.rules.exceptions import ReferralStepError
from exchange.rules.follow_up import Visit, VisitState, next_deadline
from exchange.rules.referral_rules import PlannedReferral

__all__ = [
    "JOINT_MEETING_OFFICE",
    "TRANSITIONS",
    "Entry",
    "Step",
    "apply_update",
    "escalate",
    "issue",
    "overdue",
    "referral_id",
]

JOINT_MEETING_OFFICE = AgencyRef(agencyId="joint-meeting-office")
CST = timezone(timedelta(hours=8))
MAX_ID = 64

_S = ReferralStatus
TRANSITIONS: Mapping[ReferralStatus, frozenset[ReferralStatus]] = MappingProxyType({
    _S.ISSUED: frozenset({_S.ACCEPTED, _S.DECLINED, _S.TRANSFERRED}),
    _S.ACCEPTED: frozenset({_S.IN_PROGRESS, _S.COMPLETED, _S.DECLINED, _S.TRANSFERRED}),
    _S.IN_PROGRESS: frozenset({_S.COMPLETED, _S.TRANSFERRED}),
    _S.COMPLETED: frozenset(),
    _S.DECLINED: frozenset(),
    _S.TRANSFERRED: frozenset(),
})  # fmt: skip
"""Where each state may go. A referral cannot be declined once work on it has started; it can
still be transferred. The last three are final."""


def _short(text: str) -> str:
    """``text`` as an identifier of at most 64 characters (a digest when it is longer)."""
    if len(text) <= MAX_ID:
        return text
    return f"RF-{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def referral_id(rescue_id: str, person_index: int, planned: PlannedReferral) -> str:
    return _short(f"{rescue_id}-{person_index}-{planned.purpose.value}-{planned.agency}")


@dataclass(frozen=True)
class Entry:
    """What the workflow's table keeps per referral: the board state, the referral itself
    (the person included, to hand over on a transfer) and, for a FOLLOW_UP referral, its
    scheduled visits."""

    state: ReferralState
    referral: Referral
    visits: tuple[Visit, ...] = ()

    def dumps(self) -> bytes:
        return json.dumps({
            "state": self.state.model_dump(mode="json"),
            "referral": self.referral.model_dump(mode="json"),
            "visits": [[v.number, v.due.isoformat(), v.deadline.isoformat(), v.state.value]
                       for v in self.visits],
        }).encode()  # fmt: skip

    @classmethod
    def loads(cls, raw: bytes) -> Entry:
        data: dict[str, Any] = json.loads(raw)
        return cls(
            ReferralState.model_validate(data["state"]),
            Referral.model_validate(data["referral"]),
            tuple(
                Visit(n, datetime.fromisoformat(due), datetime.fromisoformat(end), VisitState(st))
                for n, due, end, st in data.get("visits", [])
            ),
        )

    @property
    def visits_tracked(self) -> bool:
        return self.state.status not in (_S.DECLINED, _S.TRANSFERRED)

    def next_due(self) -> datetime | None:
        """The next time something falls due: the referral itself, or a visit."""
        times = [self.state.dueAt] if self.state.is_open and not self.state.escalated else []
        visit = next_deadline(self.visits) if self.visits_tracked else None
        return min([*times, visit]) if visit is not None else min(times, default=None)


def issue(
    rescue: Rescue, planned: PlannedReferral, now: datetime, time_scale: float = 1.0
) -> Entry:
    """The referral (to the agency's inbox) and its board state, issued at ``now``."""
    case_id = rescue.caseId or rescue.rescueId
    due_at = now + planned.due / time_scale
    to = AgencyRef(agencyId=planned.agency, unitId=planned.unit)
    victim = rescue.victims[planned.person_index]
    ident = referral_id(rescue.rescueId, planned.person_index, planned)
    referral = Referral(
        referralId=ident, caseId=case_id, fromAgency=rescue.rescuingUnit, toAgency=to,
        purpose=planned.purpose, legalBasis=planned.legal_basis, subject=victim.person,
        dueDate=due_at.astimezone(CST).date(), status=_S.ISSUED,
        notes=f"rescue {rescue.rescueId}, person {planned.person_index + 1}: {planned.reason}",
        reportedAt=now, intermediaryCode=rescue.intermediaryCode,
    )  # fmt: skip
    state = ReferralState(
        referralId=ident, caseId=case_id, rescueId=rescue.rescueId,
        personIndex=planned.person_index, fromAgency=rescue.rescuingUnit, toAgency=to,
        purpose=planned.purpose, legalBasis=planned.legal_basis, rule=planned.rules[0],
        decision=planned.reason, status=_S.ISSUED, issuedAt=now, dueAt=due_at, updatedAt=now,
        intermediaryCode=rescue.intermediaryCode,
    )  # fmt: skip
    return Entry(state, referral)


@dataclass(frozen=True)
class Step:
    """The outcome of an update: the referral's new entry, and for a transfer the new one."""

    entry: Entry
    transferred: Entry | None = None


def apply_update(entry: Entry, update: ReferralUpdate, now: datetime) -> Step | None:
    """The referral after ``update``; None when it repeats the current status (a duplicate).

    Raises :class:`ReferralStepError` when the update comes from another agency than the one
    the referral is addressed to, or the lifecycle does not allow the step.
    """
    state = entry.state
    ident = state.referralId
    if update.by.agencyId != state.toAgency.agencyId:
        raise ReferralStepError(
            ident, "by.agencyId", "referral-addressee",
            f"{update.by.agencyId} reported a step of a referral addressed to "
            f"{state.toAgency.agencyId}",
        )  # fmt: skip
    if update.caseId != state.caseId:
        raise ReferralStepError(
            ident, "caseId", "referral-case", f"{update.caseId} is not the referral's case"
        )
    if update.status is state.status:
        return None
    if update.status not in TRANSITIONS[state.status]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[state.status])) or "nothing"
        raise ReferralStepError(
            ident, "status", "referral-lifecycle",
            f"{state.status.value} → {update.status.value} is not allowed (allowed: {allowed})",
        )  # fmt: skip
    changed = state.model_copy(update={
        "status": update.status, "statusReason": update.reason, "updatedAt": update.updatedAt,
        "transferredTo": update.transferTo, "overdue": False if update.status not in
        OPEN_STATUSES else state.overdue,
    })  # fmt: skip
    updated = Entry(
        changed, entry.referral.model_copy(update={"status": update.status}), entry.visits
    )
    if update.status is not _S.TRANSFERRED or update.transferTo is None:
        return Step(updated)
    return Step(updated, transfer(entry, update, now))


def transfer(entry: Entry, update: ReferralUpdate, now: datetime) -> Entry:
    """The referral a transfer issues (its id derives from the transferred one's and the new
    addressee, so planning it again, from the entry before or after the transfer, gives the
    same id)."""
    state, to = entry.state, update.transferTo
    if to is None:  # ReferralUpdate requires it with TRANSFERRED
        raise ReferralStepError(state.referralId, "transferTo", "referral-transfer", "missing")
    if to.agencyId == state.toAgency.agencyId and to.unitId == state.toAgency.unitId:
        raise ReferralStepError(
            state.referralId, "transferTo", "referral-transfer", "transferred to itself"
        )
    ident = _short(f"{state.referralId}~{to.unitId or to.agencyId}")
    due_at = now + (state.dueAt - state.issuedAt)
    referral = entry.referral.model_copy(update={
        "referralId": ident, "fromAgency": update.by, "toAgency": to, "status": _S.ISSUED,
        "dueDate": due_at.astimezone(CST).date(), "reportedAt": now,
        "notes": f"transferred from {update.by.unitId or update.by.agencyId}: {update.reason}",
    })  # fmt: skip
    new_state = state.model_copy(update={
        "referralId": ident, "fromAgency": update.by, "toAgency": to, "status": _S.ISSUED,
        "statusReason": None, "transferredTo": None, "issuedAt": now, "dueAt": due_at,
        "updatedAt": now, "overdue": False, "escalated": False,
        "decision": f"transferred from {state.referralId} "
        f"({update.by.unitId or update.by.agencyId}): {update.reason}",
    })  # fmt: skip
    return Entry(new_state, referral)


def overdue(state: ReferralState, now: datetime) -> bool:
    """Still open after its due time, and not yet escalated."""
    return state.status in OPEN_STATUSES and now > state.dueAt and not state.escalated


def escalate(entry: Entry, now: datetime) -> tuple[Entry, ComplianceAlert]:
    """The overdue referral marked escalated, and the alert to the joint-meeting office and the
    agency that must act."""
    state = entry.state
    who = state.toAgency.unitId or state.toAgency.agencyId
    marked = Entry(
        state.model_copy(update={"overdue": True, "escalated": True, "updatedAt": now}),
        entry.referral, entry.visits,
    )
    alert = ComplianceAlert(
        alertId=_short(f"{state.referralId}:overdue"), kind=ComplianceAlertKind.REFERRAL_OVERDUE,
        subject=state.referralId, caseId=state.caseId,
        addressedTo=(JOINT_MEETING_OFFICE, AgencyRef(agencyId=state.toAgency.agencyId)),
        rule="referral-due",
        reason=f"{state.purpose.value} referral to {who} still {state.status.value} after its "
        f"due time {state.dueAt.astimezone(CST).isoformat(timespec='minutes')} "
        f"({state.legalBasis})",
        raisedAt=now,
    )  # fmt: skip
    return marked, alert
