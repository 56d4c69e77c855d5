"""Follow-up visits: schedule, record, missed (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exchange.models.common import AgencyRef
from exchange.models.referrals import FollowUpVisit
from exchange.rules import referral_lifecycle as lc
from exchange.rules.exceptions import ReferralStepError
from exchange.rules.follow_up import VisitState, escalate_missed, record, schedule
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.rules.referral_rules import load_referral_rules, plan_referrals
from tests.workflows.referral_people import BOY_17_NOT_HOME, rescue_of

NOW = datetime(2025, 5, 20, 2, 0, tzinfo=UTC)
YANTA = AgencyRef(agencyId="police", unitId="police.yanta")


def follow_up_entry() -> lc.Entry:
    rescue = rescue_of(BOY_17_NOT_HOME)
    rules = load_referral_rules()
    plan = plan_referrals(rescue, rules, load_jurisdiction())[0]
    [planned] = [r for r in plan.referrals if r.purpose.value == "FOLLOW_UP"]
    entry = lc.issue(rescue, planned, NOW)
    return lc.Entry(entry.state, entry.referral, schedule(rules.follow_up, NOW))


def visit(number: int, unit: AgencyRef = YANTA) -> FollowUpVisit:
    state = follow_up_entry().state
    return FollowUpVisit(referralId=state.referralId, caseId=state.caseId, visit=number,
                         unit=unit, visitedAt=NOW)


def test_schedule_from_the_rules() -> None:
    visits = follow_up_entry().visits
    assert [(v.due - NOW).days for v in visits] == [30, 90, 180, 365]
    assert all(v.deadline - v.due == timedelta(days=7) for v in visits)
    assert schedule(load_referral_rules().follow_up, NOW, 86400)[0].due == NOW + timedelta(
        seconds=30
    )


def test_recorded_missed_and_late() -> None:
    entry = follow_up_entry()
    visits = record(entry.state, entry.visits, visit(1))
    assert visits is not None
    assert visits[0].state is VisitState.DONE
    assert record(entry.state, visits, visit(1)) is None  # recorded before
    late = NOW + timedelta(days=98)  # visit 2's deadline (97 days) has passed
    marked, alerts = escalate_missed(entry.state, visits, late)
    assert [a.alertId.rsplit(":", 1)[1] for a in alerts] == ["visit2"]
    assert alerts[0].kind.value == "FOLLOW_UP_MISSED"
    assert "follow-up visit 2 by police.yanta" in alerts[0].reason
    assert [v.state for v in marked] == [
        VisitState.DONE, VisitState.MISSED, VisitState.PENDING, VisitState.PENDING
    ]
    assert escalate_missed(entry.state, marked, late)[1] == []  # once
    after = record(entry.state, marked, visit(2))
    assert after is not None
    assert after[1].state is VisitState.LATE
    closed = entry.state.model_copy(update={"status": "COMPLETED"})
    assert lc.Entry(closed, entry.referral, after).next_due() == after[2].deadline


def test_refused_visits() -> None:
    entry = follow_up_entry()
    with pytest.raises(ReferralStepError, match=r"visit: visit 5 is not scheduled"):
        record(entry.state, entry.visits, visit(5))
    with pytest.raises(ReferralStepError, match="follow-up-addressee"):
        record(entry.state, entry.visits, visit(1, AgencyRef(agencyId="civil-affairs")))


def test_visits_survive_the_table() -> None:
    entry = follow_up_entry()
    assert lc.Entry.loads(entry.dumps()) == entry
