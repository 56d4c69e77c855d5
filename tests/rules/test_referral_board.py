"""The referral board: open, overdue and closed referrals per agency (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from exchange.models.referrals import ReferralStatus
from exchange.rules import referral_lifecycle as lc
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.rules.referral_board import build_board, render, span
from exchange.rules.referral_rules import load_referral_rules, plan_referrals
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

    text = render(board, names={"health": "西安市卫生健康委员会"})
    lines = text.splitlines()
    total_open = sum(line.open for line in board.lines)
    total_overdue = sum(line.overdue for line in board.lines)
    assert lines[0] == (f"referral board at 2025-05-21 11:00 (Beijing time, UTC+08:00): "
                        f"{total_open} open, "
                        f"{total_overdue} overdue, 1 escalated to the joint-meeting office")
    assert lines[2].split()[:6] == ["agency", "open", "overdue", "escalated", "oldest", "due"]
    table = lines[4:4 + len(board.lines)]
    # The most overdue agency first, with its oldest due referral and how late it is.
    assert table[0].split()[0] == max(board.lines, key=lambda x: x.overdue).agency
    [health_row] = [r for r in table if r.startswith("health ")]
    oldest = min(s.dueAt for s in health[1:])
    assert board.line("health").oldest_due == oldest
    assert health_row.split()[1:4] == [str(line.open), str(line.overdue), "1"]
    assert "2025-05-21 10:00 (1h 0m late)" in health_row
    assert f"health 西安市卫生健康委员会: {board.line('health').open} open" in text
    details = text.split("open referrals, overdue first")[1]
    assert completed.referralId not in details
    [row] = [r for r in details.splitlines() if escalated.referralId in r]
    assert row.endswith("OVERDUE escalated")
    assert f"case {escalated.caseId}" in row
    # Within an agency, overdue ones come before those still in time.
    health_part = details.split("health 西安市卫生健康委员会")[1].splitlines()[1:]
    health_rows = health_part[:board.line("health").open]
    marks = ["OVERDUE" in r for r in health_rows]
    assert marks == sorted(marks, reverse=True)
    assert marks.count(True) == line.overdue
    assert "(in 1d 23h)" in health_rows[-1]
    assert "(no referrals on the board)" in render(build_board([], NOW))


def test_durations_read_like_an_operator_would_say_them() -> None:
    assert span(timedelta(days=3, hours=2, minutes=5)) == "3d 2h"
    assert span(timedelta(hours=5, minutes=10)) == "5h 10m"
    assert span(timedelta(minutes=12, seconds=59)) == "12m"
    assert span(timedelta(seconds=-5)) == "0m"
