"""A referral's lifecycle: every path, the refusals, overdue and escalation (pure, no Kafka)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlertKind
from exchange.models.referrals import ReferralPurpose, ReferralStatus, ReferralUpdate
from exchange.rules import referral_lifecycle as lc
from exchange.rules.exceptions import ReferralStepError
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.rules.referral_rules import load_referral_rules, plan_referrals
from tests.workflows.referral_people import BOY_17_NOT_HOME, rescue_of

S = ReferralStatus
NOW = datetime(2025, 5, 20, 2, 0, tzinfo=UTC)
HR = AgencyRef(agencyId="human-resources")


def issued(time_scale: float = 1.0) -> lc.Entry:
    rescue = rescue_of(BOY_17_NOT_HOME)
    plan = plan_referrals(rescue, load_referral_rules(), load_jurisdiction())[0]
    training = next(r for r in plan.referrals if r.purpose is ReferralPurpose.JOB_TRAINING)
    return lc.issue(rescue, training, NOW, time_scale)


def step(
    status: ReferralStatus, minutes: int = 1, by: AgencyRef = HR, **extra: object
) -> ReferralUpdate:
    return ReferralUpdate(
        referralId=issued().state.referralId, caseId=issued().state.caseId, status=status, by=by,
        updatedAt=NOW + timedelta(minutes=minutes), **extra,  # type: ignore[arg-type]
    )


def walk(*updates: ReferralUpdate) -> lc.Entry:
    entry = issued()
    for update in updates:
        done = lc.apply_update(entry, update, update.updatedAt)
        assert done is not None
        entry = done.entry
    return entry


def test_issued_referral_carries_purpose_basis_reason_and_due() -> None:
    entry = issued()
    state, referral = entry.state, entry.referral
    assert state.referralId == "R-2025-0042-0-JOB_TRAINING-human-resources"
    assert state.status is S.ISSUED
    assert referral.status is S.ISSUED
    assert state.dueAt == NOW + timedelta(hours=720)
    assert referral.dueDate == (NOW + timedelta(hours=720)).date()
    assert "aged 16+" in state.decision
    assert state.rule == "job-training-not-home"
    assert referral.subject == BOY_17_NOT_HOME.person  # the agency gets the person
    assert "person" not in state.model_dump()  # the board does not
    assert issued(time_scale=3600).state.dueAt == NOW + timedelta(minutes=12)


def test_accepted_in_progress_completed() -> None:
    entry = walk(step(S.ACCEPTED), step(S.IN_PROGRESS, 2), step(S.COMPLETED, 3))
    assert entry.state.status is S.COMPLETED
    assert entry.state.updatedAt == NOW + timedelta(minutes=3)
    assert not entry.state.is_open


def test_accepted_then_completed_directly() -> None:
    assert walk(step(S.ACCEPTED), step(S.COMPLETED, 2)).state.status is S.COMPLETED


def test_declined_with_a_reason() -> None:
    entry = walk(step(S.DECLINED, reason="already in a training programme"))
    assert entry.state.status is S.DECLINED
    assert entry.state.statusReason == "already in a training programme"


def test_transferred_issues_a_new_referral_to_the_agency_taking_over() -> None:
    to = AgencyRef(agencyId="civil-affairs", unitId="civil-affairs.relief-station")
    entry = walk(step(S.ACCEPTED))
    done = lc.apply_update(
        entry, step(S.TRANSFERRED, 5, reason="training only after shelter", transferTo=to), NOW
    )
    assert done is not None
    assert done.transferred is not None
    assert done.entry.state.status is S.TRANSFERRED
    assert done.entry.state.transferredTo == to
    new = done.transferred
    assert new.state.status is S.ISSUED
    assert new.state.toAgency == to
    assert new.state.fromAgency == HR
    assert new.state.referralId != entry.state.referralId
    assert new.referral.subject == entry.referral.subject
    assert "training only after shelter" in new.state.decision


def test_a_repeated_step_changes_nothing() -> None:
    entry = walk(step(S.ACCEPTED))
    assert lc.apply_update(entry, step(S.ACCEPTED, 9), NOW) is None


@pytest.mark.parametrize(
    ("path", "last"),
    [
        ((), S.IN_PROGRESS),  # not accepted yet
        ((S.ACCEPTED, S.IN_PROGRESS), S.DECLINED),  # work started: transfer, do not decline
        ((S.ACCEPTED, S.COMPLETED), S.IN_PROGRESS),  # final
    ],
)
def test_steps_the_lifecycle_forbids_are_refused(
    path: tuple[ReferralStatus, ...], last: ReferralStatus
) -> None:
    entry = walk(*(step(s, i + 1) for i, s in enumerate(path)))
    extra = {"reason": "no"} if last is S.DECLINED else {}
    with pytest.raises(ReferralStepError) as caught:
        lc.apply_update(entry, step(last, 9, **extra), NOW)
    assert caught.value.field == "status"
    assert caught.value.rule == "referral-lifecycle"
    assert f"→ {last.value} is not allowed" in str(caught.value)


def test_a_step_from_another_agency_is_refused() -> None:
    with pytest.raises(ReferralStepError, match=r"by.agencyId: education reported") as caught:
        lc.apply_update(issued(), step(S.ACCEPTED, by=AgencyRef(agencyId="education")), NOW)
    assert caught.value.rule == "referral-addressee"


def test_update_validation_names_the_rule() -> None:
    with pytest.raises(ValueError, match="referral_update_reason"):
        step(S.DECLINED)
    with pytest.raises(ValueError, match="referral_update_transfer"):
        step(S.TRANSFERRED, reason="x")
    with pytest.raises(ValueError, match="referral_update_status"):
        step(S.ISSUED)


def test_overdue_escalates_once_to_the_joint_meeting_office_and_the_agency() -> None:
    entry = walk(step(S.ACCEPTED))
    due = entry.state.dueAt
    assert not lc.overdue(entry.state, due)
    assert lc.overdue(entry.state, due + timedelta(seconds=1))
    marked, alert = lc.escalate(entry, due + timedelta(seconds=1))
    assert marked.state.overdue
    assert marked.state.escalated
    assert not lc.overdue(marked.state, due + timedelta(days=1))  # once
    assert alert.kind is ComplianceAlertKind.REFERRAL_OVERDUE
    assert {a.agencyId for a in alert.addressedTo} == {"joint-meeting-office", "human-resources"}
    assert "still ACCEPTED after its due time" in alert.reason
    completed = lc.apply_update(marked, step(S.COMPLETED, 60 * 24 * 31), NOW)
    assert completed is not None
    assert not completed.entry.state.overdue
    assert completed.entry.state.escalated
    assert not lc.overdue(walk(step(S.DECLINED, reason="r")).state, due + timedelta(days=1))


def test_entry_survives_the_table() -> None:
    entry = walk(step(S.ACCEPTED))
    assert lc.Entry.loads(entry.dumps()) == entry
