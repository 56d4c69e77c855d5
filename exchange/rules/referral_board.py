"""The referral board: open and overdue referrals per agency, from the board's states.

Pure code over ``ReferralState`` events (the latest per referral wins, in the order given);
``exchange referrals`` reads them from ``exchange.referral-board`` and prints :func:`render`.
A referral counts as overdue when the workflows marked it so, or when it is still open past
its due time (the workflows mark it within a second or two of that).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from exchange.local_time import ZONE_EN, human_time
from exchange.models.referrals import ReferralState, ReferralStatus

__all__ = ["AgencyLine", "Board", "build_board", "render", "span", "when_due"]

CST = timezone(timedelta(hours=8))


@dataclass
class AgencyLine:
    agency: str
    open: int = 0
    overdue: int = 0
    escalated: int = 0
    done: dict[ReferralStatus, int] = field(default_factory=dict)
    oldest_due: datetime | None = None
    """The earliest due time of the agency's open referrals."""


@dataclass(frozen=True)
class Board:
    lines: tuple[AgencyLine, ...]
    open_referrals: tuple[ReferralState, ...]
    now: datetime

    def line(self, agency: str) -> AgencyLine:
        return next((line for line in self.lines if line.agency == agency), AgencyLine(agency))

    def is_overdue(self, state: ReferralState) -> bool:
        return state.is_open and (state.overdue or self.now > state.dueAt)


def build_board(states: Iterable[ReferralState], now: datetime) -> Board:
    latest = {state.referralId: state for state in states}
    lines: dict[str, AgencyLine] = {}
    board = Board((), (), now)
    for state in latest.values():
        line = lines.setdefault(state.toAgency.agencyId, AgencyLine(state.toAgency.agencyId))
        if state.is_open:
            line.open += 1
            line.overdue += board.is_overdue(state)
            line.oldest_due = min(line.oldest_due or state.dueAt, state.dueAt)
        else:
            line.done[state.status] = line.done.get(state.status, 0) + 1
        line.escalated += state.escalated
    open_ones = sorted(
        (s for s in latest.values() if s.is_open), key=lambda s: (s.toAgency.agencyId, s.dueAt)
    )
    return Board(tuple(sorted(lines.values(), key=lambda x: x.agency)), tuple(open_ones), now)


def span(delta: timedelta) -> str:
    """A duration as an operator reads it: ``3d 2h``, ``5h 10m``, ``12m``."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins}m" if hours else f"{mins}m"


def when_due(board: Board, due: datetime) -> str:
    """The due time in Beijing time, and how late it is or how long is left."""
    text = due.astimezone(CST).strftime("%Y-%m-%d %H:%M")
    if board.now > due:
        return f"{text} ({span(board.now - due)} late)"
    return f"{text} (in {span(due - board.now)})"


def render(
    board: Board, *, details: bool = True, names: Mapping[str, str] | None = None
) -> str:
    """A summary, a table per agency (most overdue first, with its oldest due open referral),
    then (``details``) each agency's open referrals, overdue ones first and marked."""
    names = names or {}
    done = (ReferralStatus.COMPLETED, ReferralStatus.DECLINED, ReferralStatus.TRANSFERRED)
    total_open = sum(line.open for line in board.lines)
    total_overdue = sum(line.overdue for line in board.lines)
    rows = [
        f"referral board at {human_time(board.now)}: {total_open} open, {total_overdue} overdue, "
        f"{sum(line.escalated for line in board.lines)} escalated to the joint-meeting office",
        "",
    ]
    head = (
        f"{'agency':<28} {'open':>5} {'overdue':>8} {'escalated':>10}  {'oldest due':<31}"
        + " ".join(f"{s.value.lower():>11}" for s in done)
    )
    rows += [head, "-" * len(head)]
    never = board.now + timedelta(days=36500)
    order = sorted(board.lines, key=lambda line: (-line.overdue, line.oldest_due or never,
                                                  line.agency))  # fmt: skip
    for line in order:
        due = when_due(board, line.oldest_due) if line.oldest_due else "-"
        rows.append(
            f"{line.agency:<28} {line.open:>5} {line.overdue:>8} {line.escalated:>10}  {due:<31}"
            + " ".join(f"{line.done.get(s, 0):>11}" for s in done)
        )
    if not board.lines:
        rows.append("(no referrals on the board)")
    if details and board.open_referrals:
        rows += ["", f"open referrals, overdue first (due times in {ZONE_EN}):"]
        for line in order:
            mine = [s for s in board.open_referrals if s.toAgency.agencyId == line.agency]
            if not mine:
                continue
            name = names.get(line.agency)
            rows.append(f"{line.agency}{f' {name}' if name else ''}: {len(mine)} open")
            mine.sort(key=lambda s: (not board.is_overdue(s), s.dueAt))
            for state in mine:
                flag = "OVERDUE" if board.is_overdue(state) else ""
                flag += " escalated" if state.escalated else ""
                who = state.toAgency.unitId or state.toAgency.agencyId
                rows.append(
                    f"  due {when_due(board, state.dueAt):<31} {state.purpose.value:<20} "
                    f"{state.status.value:<11} {who:<28} case {state.caseId} "
                    f"{state.referralId} {flag}".rstrip()
                )
    return "\n".join(rows)
