"""Acknowledgement deadlines of dispatched sightings (the sighting workflow keeps them in a table,
so they survive restarts).

Every dispatch is recorded as *pending* with its due time. A police unit's
``DispatchAcknowledgement`` closes it (``acknowledged``, or ``late`` after the due time, with the
time to acknowledge observed in a histogram). A timer looks at the pending dispatches every
second; an overdue one is escalated once to the city command centre as a new dispatch of kind
``ESCALATION`` (which the command centre must acknowledge in turn; it is not escalated further).

The table also recognises duplicate sightings: :class:`DeadlineStore` looks a sighting up and
returns a :data:`Verdict` (:class:`New`, :class:`Duplicate` with the dispatches still pending,
or :class:`IdTaken` by another source), which the workflow acts on. Everything here is pure: it
works over any mutable mapping (the workflow's table, a dict in tests); the workflow only stores
and sends.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from exchange.models.common import AgencyRef
from exchange.models.sightings import DispatchAcknowledgement, DispatchKind, SightingDispatch

COMMAND_CENTRE = AgencyRef(agencyId="police", unitId="police.command-centre")


class State(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    LATE = "late"
    ESCALATED = "escalated"


@dataclass(frozen=True)
class Entry:
    """What the table keeps per dispatch id."""

    state: State
    due: datetime
    dispatch: SightingDispatch
    source: str = ""
    """``ce_source`` of the sighting the dispatch came from (with its ``ce_id``, the dispatch
    id, this entry also tells a duplicate sighting from a new one)."""

    def dumps(self) -> bytes:
        """JSON; the dispatch serialised by pydantic-core (a third of the cost of
        ``json.dumps`` over ``model_dump``, on every sighting's path)."""
        head = json.dumps({
            "state": self.state.value, "due": self.due.isoformat(), "source": self.source,
        })
        return f'{head[:-1]}, "dispatch": {self.dispatch.model_dump_json()}}}'.encode()

    @classmethod
    def loads(cls, raw: bytes) -> Entry:
        data: dict[str, Any] = json.loads(raw)
        return cls(
            State(data["state"]), datetime.fromisoformat(data["due"]),
            SightingDispatch.model_validate(data["dispatch"]), data.get("source", ""),
        )


class Peek(NamedTuple):
    """The fields a deadline scan needs, read without validating the stored dispatch."""

    state: State
    due: datetime
    sighting_id: str
    escalation: bool
    source: str


def peek(raw: bytes) -> Peek:
    data: dict[str, Any] = json.loads(raw)
    dispatch = data["dispatch"]
    return Peek(
        State(data["state"]), datetime.fromisoformat(data["due"]), dispatch["sightingId"],
        dispatch["kind"] == DispatchKind.ESCALATION.value, data.get("source", ""),
    )


def pending(dispatch: SightingDispatch, source: str = "") -> Entry:
    return Entry(State.PENDING, dispatch.ackDueAt, dispatch, source)


def acknowledge(entry: Entry, ack: DispatchAcknowledgement) -> tuple[Entry, timedelta] | None:
    """The entry after ``ack``, and the time the unit took; None if it was already closed."""
    if entry.state in (State.ACKNOWLEDGED, State.LATE):
        return None
    late = ack.acknowledgedAt > entry.due
    took = ack.acknowledgedAt - entry.dispatch.dispatchedAt
    state = State.LATE if late else State.ACKNOWLEDGED
    return Entry(state, entry.due, entry.dispatch, entry.source), took


def overdue(entry: Entry, now: datetime) -> bool:
    """Pending past its due time, and not itself an escalation (those stop at the centre)."""
    return (
        entry.state is State.PENDING
        and now > entry.due
        and entry.dispatch.kind is not DispatchKind.ESCALATION
    )


def escalation(entry: Entry, now: datetime, deadline: timedelta) -> SightingDispatch:
    """The dispatch that hands an unacknowledged one to the city command centre."""
    original = entry.dispatch
    who = original.target.unitId or original.target.agencyId
    return original.model_copy(update={
        "dispatchId": f"{original.dispatchId}:escalation",
        "kind": DispatchKind.ESCALATION,
        "target": COMMAND_CENTRE,
        "escalatedFrom": original.target,
        "rule": "escalation",
        "reason": f"not acknowledged by {who} by {entry.due.isoformat(timespec='seconds')}",
        "flagged": True,
        "ackDueAt": now + deadline,
        "dispatchedAt": now,
    })


@dataclass(frozen=True)
class New:
    """A sighting not seen before: plan and send its dispatches."""


@dataclass(frozen=True)
class Duplicate:
    """A sighting handled before; ``pending``: its dispatches not acknowledged yet (re-send
    them with the same ids: after a crash the table may hold a dispatch whose record never
    reached the inbox). ``recorded``: the ids of its dispatches the table holds, in any state.

    A crash between a sighting's two dispatches (after the respond was recorded, before the
    intercept was) leaves one recorded and one never sent: :meth:`unsent` names those the
    replay still owes."""

    pending: tuple[SightingDispatch, ...]
    recorded: frozenset[str]

    def unsent(self, planned: Sequence[SightingDispatch]) -> list[SightingDispatch]:
        """The dispatches of ``planned`` (the sighting's, planned again) the table never
        recorded: to be sent and recorded now, as for a new sighting."""
        return [dispatch for dispatch in planned if dispatch.dispatchId not in self.recorded]


@dataclass(frozen=True)
class IdTaken:
    """Another source already used this ``ce_id``: keep the sighting apart, never merge it."""

    source: str


Verdict = New | Duplicate | IdTaken


class DeadlineStore:
    """The deadline entries by dispatch id (``<ce_id>:respond``, ``<ce_id>:intercept``,
    ``…:escalation``) over a mapping of serialised entries."""

    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self.table = table

    def lookup(self, source: str, event_id: str) -> Verdict:
        """What to do with the sighting ``source`` + ``event_id``."""
        respond = self.table.get(f"{event_id}:respond")
        if respond is None:
            return New()
        found = peek(respond)
        if found.source != source:
            return IdTaken(found.source)
        intercept_id = f"{event_id}:intercept"
        entries = {f"{event_id}:respond": respond, intercept_id: self.table.get(intercept_id)}
        pending = tuple(
            Entry.loads(raw).dispatch
            for raw in entries.values()
            if raw is not None and peek(raw).state is State.PENDING
        )
        return Duplicate(pending, frozenset(key for key, raw in entries.items() if raw is not None))

    def get(self, dispatch_id: str) -> Entry | None:
        raw = self.table.get(dispatch_id)
        return None if raw is None else Entry.loads(raw)

    def put(self, dispatch_id: str, entry: Entry) -> None:
        self.table[dispatch_id] = entry.dumps()

    def has(self, dispatch_id: str) -> bool:
        return self.table.get(dispatch_id) is not None

    def delete(self, dispatch_id: str) -> None:
        del self.table[dispatch_id]

    def peeks(self) -> list[tuple[str, Peek]]:
        """Every entry's scan fields (a snapshot: the caller may change the store meanwhile)."""
        return [(key, peek(raw)) for key, raw in list(self.table.items()) if raw is not None]
