"""Deadline bookkeeping: acknowledged, late, overdue, escalation (pure logic)."""

from __future__ import annotations

from datetime import timedelta

from exchange.examples.workflow_outputs import (
    example_dispatch_acknowledgement,
    example_sighting_dispatch,
)
from exchange.models.sightings import DispatchKind, SightingDispatch
from exchange.rules import deadlines
from exchange.rules.deadlines import State


def test_entry_round_trips_through_the_table_encoding() -> None:
    entry = deadlines.pending(example_sighting_dispatch())
    assert deadlines.Entry.loads(entry.dumps()) == entry


def test_acknowledged_in_time_and_late() -> None:
    dispatch = example_sighting_dispatch()
    ack = example_dispatch_acknowledgement()
    on_time = deadlines.acknowledge(deadlines.pending(dispatch), ack)
    assert on_time is not None
    assert on_time[0].state is State.ACKNOWLEDGED
    assert on_time[1] == ack.acknowledgedAt - dispatch.dispatchedAt
    late_ack = ack.model_copy(update={"acknowledgedAt": dispatch.ackDueAt + timedelta(minutes=1)})
    late = deadlines.acknowledge(deadlines.pending(dispatch), late_ack)
    assert late is not None
    assert late[0].state is State.LATE


def test_a_second_acknowledgement_changes_nothing() -> None:
    entry = deadlines.pending(example_sighting_dispatch())
    closed, _ = deadlines.acknowledge(entry, example_dispatch_acknowledgement()) or (None, None)
    assert closed is not None
    assert deadlines.acknowledge(closed, example_dispatch_acknowledgement()) is None


def test_escalated_dispatch_can_still_be_acknowledged_late() -> None:
    dispatch = example_sighting_dispatch()
    escalated = deadlines.Entry(State.ESCALATED, dispatch.ackDueAt, dispatch)
    ack = example_dispatch_acknowledgement().model_copy(
        update={"acknowledgedAt": dispatch.ackDueAt + timedelta(minutes=3)}
    )
    outcome = deadlines.acknowledge(escalated, ack)
    assert outcome is not None
    assert outcome[0].state is State.LATE


def test_overdue_only_when_pending_past_due_and_not_an_escalation() -> None:
    dispatch = example_sighting_dispatch()
    entry = deadlines.pending(dispatch)
    assert not deadlines.overdue(entry, dispatch.ackDueAt)
    assert deadlines.overdue(entry, dispatch.ackDueAt + timedelta(seconds=1))
    now = dispatch.ackDueAt + timedelta(seconds=1)
    escalation = deadlines.escalation(entry, now, timedelta(minutes=5))
    assert not deadlines.overdue(deadlines.pending(escalation), now + timedelta(hours=1))


def test_escalation_goes_to_the_command_centre_with_the_reason() -> None:
    dispatch = example_sighting_dispatch()
    now = dispatch.ackDueAt + timedelta(seconds=30)
    escalation = deadlines.escalation(deadlines.pending(dispatch), now, timedelta(minutes=5))
    assert escalation.kind is DispatchKind.ESCALATION
    assert escalation.target.unitId == "police.command-centre"
    assert escalation.escalatedFrom == dispatch.target
    assert escalation.dispatchId == f"{dispatch.dispatchId}:escalation"
    assert escalation.ackDueAt == now + timedelta(minutes=5)
    assert "railway-police.xian-north-station" in escalation.reason
    assert escalation.flagged


def _respond(event_id: str) -> SightingDispatch:
    return example_sighting_dispatch().model_copy(update={"dispatchId": f"{event_id}:respond"})


def test_the_store_tells_a_new_sighting_a_duplicate_and_an_id_taken() -> None:
    store = deadlines.DeadlineStore({})
    event_id = "e-1"
    dispatch = _respond(event_id)
    assert store.lookup("/agencies/transport", event_id) == deadlines.New()
    store.put(dispatch.dispatchId, deadlines.pending(dispatch, "/agencies/transport"))
    assert store.lookup("/agencies/transport", event_id) == deadlines.Duplicate(
        (dispatch,), frozenset({dispatch.dispatchId})
    )
    assert store.lookup("/agencies/other", event_id) == deadlines.IdTaken("/agencies/transport")


def test_a_duplicate_of_an_acknowledged_sighting_has_nothing_pending() -> None:
    store = deadlines.DeadlineStore({})
    event_id = "e-2"
    dispatch = _respond(event_id)
    closed, _ = deadlines.acknowledge(
        deadlines.pending(dispatch, "/s"), example_dispatch_acknowledgement()
    ) or (None, None)
    assert closed is not None
    store.put(dispatch.dispatchId, closed)
    assert store.lookup("/s", event_id) == deadlines.Duplicate((), frozenset({dispatch.dispatchId}))
    assert [key for key, _ in store.peeks()] == [dispatch.dispatchId]


def test_a_duplicate_recorded_in_part_still_owes_the_dispatches_never_recorded() -> None:
    """A crash after the respond was recorded and before the intercept was: the replay finds
    the sighting a duplicate, re-sends the pending respond and still owes the intercept (the
    nemesis lost an intercept this way)."""
    store = deadlines.DeadlineStore({})
    event_id = "e-3"
    respond = _respond(event_id)
    intercept = respond.model_copy(update={
        "dispatchId": f"{event_id}:intercept", "kind": DispatchKind.INTERCEPT,
    })
    store.put(respond.dispatchId, deadlines.pending(respond, "/s"))
    verdict = store.lookup("/s", event_id)
    assert isinstance(verdict, deadlines.Duplicate)
    assert verdict.pending == (respond,)
    assert verdict.unsent([respond, intercept]) == [intercept]
    store.put(intercept.dispatchId, deadlines.pending(intercept, "/s"))
    both = store.lookup("/s", event_id)
    assert isinstance(both, deadlines.Duplicate)
    assert both.unsent([respond, intercept]) == []
