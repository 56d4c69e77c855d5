"""The referral board: open, overdue and closed referrals per agency (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from exchange.models.events import ReferralStatus
from exchange.workflows import referral_lifecycle as lc
from exchange.workflows.jurisdiction import load_jurisdiction
from exchange.workflows.referral_board import build_board, render
from exchange.workflows.referral_rules import load_referral_rules, plan_referrals
from tests.workflows.referral_people import PEOPLE, rescue_of

NOW = datetime(2025, 5, 20, 2, 0, tzinfo=UTC)


def test_open_overdue_and_closed_per_agency() -> None:
    rescue = rescue_of(*PEOPLE)
    plans = plan_referrals(rescue, load_referral_rules(), load_jurisdiction())
    entries = [lc.issue(rescue, r, NOW) for plan in plans for r in plan.referrals]
    states = [e.state for e in entries]
    health = [s for s in states if s.toAgency.agencyId == "health"]
    completed = health[0].model_copy(update={"status": ReferralStatus.COMPLETED})
    escalated = lc.escalate(lc.Entry(health[1], entries[0].referral), NOW)[0].state
    board = build_board([*states, completed, escalated], NOW + timedelta(hours=25))

    line = board.line("health")
    assert line.open == len(health) - 1
    assert line.done == {ReferralStatus.COMPLETED: 1}
    assert line.escalated == 1
    # 24 h medical care is past due at +25 h; 72 h psychological care is not
    due_24h = [s for s in health[1:] if s.dueAt - s.issuedAt == timedelta(hours=24)]
    assert line.overdue == len({escalated.referralId} | {s.referralId for s in due_24h})
    assert board.line("human-resources").open == 1
    assert board.line("nobody").open == 0

    text = render(board)
    assert text.splitlines()[0].split()[:4] == ["agency", "open", "overdue", "escalated"]
    assert "OVERDUE escalated" in text
    assert completed.referralId not in text.split("open referrals")[1]
    assert "(no referrals on the board)" in render(build_board([], NOW))
