"""The referral board: open and overdue referrals per agency, from the board's states.

Pure code over ``ReferralState`` events (the latest per referral wins, in the order given);
``exchange referrals`` reads them from ``exchange.referral-board`` and prints :func:`render`.
A referral counts as overdue when the workflows marked it so, or when it is still open past
its due time (the workflows mark it within a second or two of that).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from exchange.models.events import ReferralStatus
from exchange.models.referral_events import ReferralState

__all__ = ["AgencyLine", "Board", "build_board", "render"]

CST = timezone(timedelta(hours=8))


@dataclass
class AgencyLine:
    agency: str
    open: int = 0
    overdue: int = 0
    escalated: int = 0
    done: dict[ReferralStatus, int] = field(default_factory=dict)


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
        else:
            line.done[state.status] = line.done.get(state.status, 0) + 1
        line.escalated += state.escalated
    open_ones = sorted(
        (s for s in latest.values() if s.is_open), key=lambda s: (s.toAgency.agencyId, s.dueAt)
    )
    return Board(tuple(sorted(lines.values(), key=lambda x: x.agency)), tuple(open_ones), now)


def render(board: Board, *, details: bool = True) -> str:
    """A text table per agency, then (``details``) each open referral, overdue ones marked."""
    done = (ReferralStatus.COMPLETED, ReferralStatus.DECLINED, ReferralStatus.TRANSFERRED)
    head = f"{'agency':<28} {'open':>5} {'overdue':>8} {'escalated':>10} " + " ".join(
        f"{s.value.lower():>11}" for s in done
    )
    rows = [head, "-" * len(head)]
    for line in board.lines:
        rows.append(
            f"{line.agency:<28} {line.open:>5} {line.overdue:>8} {line.escalated:>10} "
            + " ".join(f"{line.done.get(s, 0):>11}" for s in done)
        )
    if not board.lines:
        rows.append("(no referrals on the board)")
    if details and board.open_referrals:
        rows += ["", "open referrals (due times in China Standard Time):"]
        for state in board.open_referrals:
            flag = "OVERDUE" if board.is_overdue(state) else ""
            flag += " escalated" if state.escalated else ""
            due = state.dueAt.astimezone(CST).strftime("%Y-%m-%d %H:%M")
            who = state.toAgency.unitId or state.toAgency.agencyId
            rows.append(
                f"  {state.referralId:<52} {who:<28} {state.purpose.value:<20} "
                f"{state.status.value:<11} due {due} {flag}".rstrip()
            )
    return "\n".join(rows)
