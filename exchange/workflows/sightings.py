"""Sighting -> police: every transport sighting is dispatched to the one responsible unit.

For each ``TransportSighting`` on ``exchange.sighting`` the routing rules
(:mod:`exchange.rules.routing`) choose the responsible police unit; a ``SightingDispatch``
with the rule, the reason and the acknowledgement deadline goes to that police agency's inbox
(``exchange.sighting.to.<agency>``). A sighting on a moving train also asks the railway police
at the next stop to intercept: a second dispatch of kind ``INTERCEPT``.

Dispatch ids and CloudEvents ids derive from the sighting's own (``<ce_id>:respond``,
``<ce_id>:intercept``), so a replay after a crash re-sends the same events, not new ones.

The deadline table also recognises duplicates (it holds every dispatch with its sighting's
``ce_source``), so a sighting costs one table write, not two: the workflow keeps the topic's
dedupe itself (:class:`~exchange.rules.deadlines.DeadlineStore`'s verdict). A duplicate of a
sighting whose dispatch is not acknowledged yet re-sends it (same ids, for the receiver to drop)
rather than nothing: after a crash the table's changelog may hold a dispatch whose record never
reached the inbox. A duplicate of one whose dispatches the table recorded only in part (a crash
between the respond and the intercept) sends the ones never recorded. A sighting whose ``ce_id``
another source already used is dead-lettered, never merged with the other.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import faust

from exchange.codec import DecodedEvent
from exchange.models.common import AgencyRef
from exchange.models.sightings import (
    DispatchAcknowledgement,
    DispatchKind,
    SightingDispatch,
    TransportSighting,
)
from exchange.rules import deadlines
from exchange.rules.jurisdiction import Jurisdiction
from exchange.rules.routing import Target, ack_deadline, route_sighting
from exchange.workflows.runtime import Incoming, Outcome, Streams, WorkflowContext
from exchange.workflows.runtime.batches import Item, Result, acting_for
from exchange.workflows.runtime.emit import confirm

SOURCE_TOPIC = "exchange.sighting"
ACK_TOPIC = "exchange.dispatch-ack"
SWEEP_EVERY = timedelta(hours=1)  # between full passes over the deadline table
RETENTION = timedelta(days=7)
"""How long a closed (acknowledged, late or escalated) deadline, or an escalation (the end of the
line), is kept after its due time: the window in which a duplicate sighting is still
recognised. Then a sweep deletes it."""


def inbox_of(agency_id: str) -> str:
    return f"exchange.sighting.to.{agency_id}"


def _ref(target: Target) -> AgencyRef:
    return AgencyRef(agencyId=target.agency_id, unitId=target.unit_id)


def plan_dispatches(
    sighting: TransportSighting,
    event_id: str,
    jurisdiction: Jurisdiction,
    now: datetime,
    time_scale: float = 1.0,
) -> list[SightingDispatch]:
    """The dispatches one sighting produces (pure: the agent only sends them)."""
    decision = route_sighting(sighting, jurisdiction)
    deadline = ack_deadline(sighting) / time_scale
    dispatches = [
        SightingDispatch.of(
            sighting, dispatch_id=f"{event_id}:respond", kind=DispatchKind.RESPOND,
            target=_ref(decision.target), rule=decision.rule, reason=decision.reason,
            flagged=decision.flagged, now=now, deadline=deadline,
        )
    ]
    if decision.intercept is not None:
        dispatches.append(
            SightingDispatch.of(
                sighting, dispatch_id=f"{event_id}:intercept", kind=DispatchKind.INTERCEPT,
                target=_ref(decision.intercept), rule="next-stop",
                reason=decision.intercept_reason or "intercept at the train's next stop",
                flagged=decision.flagged, now=now, deadline=deadline,
            )
        )
    return dispatches


def _id_taken(event_id: str, other: str) -> ValueError:
    return ValueError(
        f"ce_id {event_id!r} was already used by source {other!r} (CloudEvents ids must be "
        "unique per source; this one is kept apart, not merged)"
    )


class SightingWorkflow:
    """Handlers, deadline store and ticker of the sighting workflow."""

    def __init__(
        self, app: faust.App, context: WorkflowContext, streams: Streams,
        jurisdiction: Jurisdiction,
    ) -> None:
        self.context = context
        self.streams = streams
        self.jurisdiction = jurisdiction
        streams.require_co_partitioned(SOURCE_TOPIC, ACK_TOPIC)
        self.store = deadlines.DeadlineStore(streams.table("sightings-deadlines", SOURCE_TOPIC))
        self.inboxes = streams.inboxes("exchange.sighting.to.")
        self.due: dict[str, tuple[datetime, str]] = {}  # pending dispatch id -> due, sighting
        self.ticked: set[str] = set()  # ids ticked whose tick this worker has not handled yet
        self.scans = 0
        self.sweep_due = True
        app.on_rebalance_complete.connect(self.on_rebalance_complete)
        streams.on_batch(SOURCE_TOPIC, self.on_sightings, dedupes=True)
        streams.on(ACK_TOPIC, self.on_acknowledgement, batch=True)
        self.ticker = streams.ticker(
            "deadline", source=SOURCE_TOPIC, scan=self.scan, on_ticks=self.on_ticks
        )

    async def deliver(self, dispatch: SightingDispatch) -> list[asyncio.Future[Any]]:
        return await self.streams.emit(
            dispatch, self.inboxes[dispatch.target.agencyId], id=dispatch.dispatchId,
            source="sightings",
        )

    async def on_sightings(self, batch: Sequence[Item]) -> list[Result]:
        """A batch of sightings (:mod:`~exchange.workflows.runtime.batches`): the verdicts
        (a copy of a sighting earlier in the same batch is a duplicate too), the routing, then
        every dispatch sent and its deadline stored, in the batch's order, metrics at once."""
        context = self.context
        now = context.clock()
        results: list[Result] = [None] * len(batch)
        planned: dict[str, str] = {}  # ce_id -> ce_source of the batch's new sightings
        outgoing: list[tuple[int, str, SightingDispatch]] = []  # item, source, dispatch
        for index, (decoded, _) in enumerate(batch):
            try:
                results[index] = await self._verdict(decoded, planned, now, outgoing, index)
            except Exception as error:  # noqa: BLE001 - this sighting alone is dead-lettered
                results[index] = error
        routed: Counter[tuple[str, str, str, str]] = Counter()
        flagged: Counter[str] = Counter()
        latencies: list[tuple[str, float]] = []  # dispatch kind, seconds since the sighting
        for index, source, dispatch in outgoing:
            if results[index] is not None:
                continue  # an earlier dispatch of the same sighting failed
            try:
                await self.deliver(dispatch)
                with acting_for(batch[index][1]):  # on the sighting's partition
                    self.store.put(dispatch.dispatchId, deadlines.pending(dispatch, source))
            except Exception as error:  # noqa: BLE001 - this sighting alone is dead-lettered
                results[index] = error
                continue
            target = dispatch.target
            routed[target.agencyId, target.unitId or "", dispatch.kind, dispatch.rule] += 1
            if dispatch.flagged:
                flagged[dispatch.rule] += 1
            self.due[dispatch.dispatchId] = (dispatch.ackDueAt, dispatch.sightingId)
            published = batch[index][0].attributes.time
            latencies.append((dispatch.kind, time.time() - published.timestamp()))
        metrics = context.metrics
        for kind, seconds in latencies:  # real seconds, whatever the workflow clock's scale
            metrics.dispatch_seconds.labels(kind).observe(max(seconds, 0.0))
        for labels, count in routed.items():
            metrics.sightings_routed.labels(*labels).inc(count)
        for rule, count in flagged.items():
            metrics.sightings_flagged.labels(rule).inc(count)
        return results

    async def _verdict(
        self, decoded: DecodedEvent, planned: dict[str, str], now: datetime,
        outgoing: list[tuple[int, str, SightingDispatch]], index: int,
    ) -> Outcome | None:
        sighting = decoded.event
        if not isinstance(sighting, TransportSighting):
            raise TypeError(f"{SOURCE_TOPIC} carries TransportSighting, not {type(sighting)}")
        source, event_id = decoded.attributes.source, decoded.attributes.id
        if event_id in planned:  # a copy earlier in the same batch: sent with the batch
            if planned[event_id] != source:
                raise _id_taken(event_id, planned[event_id])
            return Outcome.DUPLICATE
        verdict = self.store.lookup(source, event_id)
        if isinstance(verdict, deadlines.IdTaken):
            raise _id_taken(event_id, verdict.source)
        dispatches = plan_dispatches(
            sighting, event_id, self.jurisdiction, now, self.context.time_scale
        )
        if isinstance(verdict, deadlines.Duplicate):
            for dispatch in verdict.pending:  # not acknowledged: re-sent with the same ids
                await self.deliver(dispatch)
            # a crash between the sighting's dispatches: the ones never recorded, now
            dispatches = verdict.unsent(dispatches)
            if not dispatches:
                return Outcome.DUPLICATE
        planned[event_id] = source
        outgoing.extend((index, source, dispatch) for dispatch in dispatches)
        return None

    async def on_acknowledgement(self, decoded: DecodedEvent, record: Incoming) -> None:
        ack = decoded.event
        if not isinstance(ack, DispatchAcknowledgement):
            raise TypeError(f"{ACK_TOPIC} carries DispatchAcknowledgement, not {type(ack)}")
        entry = self.store.get(ack.dispatchId)
        if entry is None:
            raise LookupError(f"acknowledgement of unknown dispatch {ack.dispatchId!r}")
        if ack.unit.agencyId != entry.dispatch.target.agencyId:
            raise PermissionError(
                f"{ack.unit.agencyId} acknowledged a dispatch addressed to "
                f"{entry.dispatch.target.agencyId}"
            )
        outcome = deadlines.acknowledge(entry, ack)
        if outcome is None:
            return  # acknowledged before: nothing changes
        closed, took = outcome
        self.store.put(ack.dispatchId, closed)  # kept: it recognises a duplicate
        self.due.pop(ack.dispatchId, None)
        metrics = self.context.metrics
        target = entry.dispatch.target
        metrics.acknowledged.labels(
            target.agencyId, target.unitId or "", closed.state.value
        ).inc()
        metrics.ack_seconds.labels(entry.dispatch.kind).observe(took.total_seconds())

    async def on_rebalance_complete(self, *_: object, **__: object) -> None:
        """The partitions (and their recovered tables) changed: rebuild the index."""
        self.sweep_due = True

    async def scan(self) -> None:
        """Tick each overdue dispatch this worker knows is pending.

        Runs every second over an in-memory index of pending deadlines, not over the table. The
        table is read whole only after a rebalance and every :data:`SWEEP_EVERY`, to rebuild
        the index and to sweep closed deadlines older than :data:`RETENTION`."""
        self.scans += 1
        every = max(1, round(self.context.scaled(SWEEP_EVERY).total_seconds()))
        if self.sweep_due or self.scans % every == 0:
            self.sweep_due = False
            await self.sweep()
        now = self.context.clock()
        for dispatch_id, (due, sighting_id) in list(self.due.items()):
            if due < now:
                del self.due[dispatch_id]
                await self._tick(sighting_id, dispatch_id)

    async def sweep(self) -> None:
        """Rebuild the index of pending deadlines; tick the expired closed ones (the tick
        agent deletes them: only an agent may change the table).

        An entry ticked already, whose tick is still on its way (a backlog of ticks), is not
        ticked again: after every rebalance the sweep would otherwise add the whole backlog to
        it once more, and a backlog would feed itself. A tick sent is not lost: the worker
        crashes when a record is not delivered, and the partition's next owner reads it."""
        due: dict[str, tuple[datetime, str]] = {}
        ticked: set[str] = set()
        expired = self.context.clock() - self.context.scaled(RETENTION)
        for dispatch_id, found in self.store.peeks():
            if dispatch_id in self.ticked:
                ticked.add(dispatch_id)
            elif found.state is deadlines.State.PENDING and not found.escalation:
                due[dispatch_id] = (found.due, found.sighting_id)
            elif found.due < expired:
                await self._tick(found.sighting_id, dispatch_id)
                ticked.add(dispatch_id)
        self.due = due
        self.ticked = ticked  # ids of partitions this worker no longer holds are forgotten

    async def _tick(self, sighting_id: str, dispatch_id: str) -> None:
        self.ticked.add(dispatch_id)
        await self.ticker.tick(sighting_id, dispatch_id)

    async def on_ticks(self, records: Sequence[Incoming]) -> list[Exception | None]:
        """A batch of ticks: the overdue dispatches' escalations are sent together and their
        acknowledgements awaited together (each entry closes after its escalation is on the
        broker: a crash in between escalates again, with the same id), then the entries are
        closed. One round trip per batch, not one per escalation."""
        now = self.context.clock()
        results: list[Exception | None] = [None] * len(records)
        escalating: dict[str, tuple[int, deadlines.Entry, SightingDispatch]] = {}
        deliveries: list[asyncio.Future[Any]] = []
        for index, record in enumerate(records):
            dispatch_id = (record.value or b"").decode()
            self.ticked.discard(dispatch_id)
            if dispatch_id in escalating:
                continue  # ticked twice in one batch
            try:
                with acting_for(record):
                    entry = self._tick_entry(dispatch_id, now)
                if entry is None:
                    continue
                original = entry.dispatch
                deadline = original.ackDueAt - original.dispatchedAt  # the same time to ack
                escalated = deadlines.escalation(entry, now, deadline)
                deliveries += await self.deliver(escalated)
            except Exception as error:  # noqa: BLE001 - this tick alone is dead-lettered
                results[index] = error
                continue
            escalating[dispatch_id] = (index, entry, escalated)
        await confirm(deliveries)  # all on the broker before any entry closes
        metrics = self.context.metrics
        for dispatch_id, (index, entry, escalated) in escalating.items():
            with acting_for(records[index]):
                if not self.store.has(escalated.dispatchId):  # the end of the line
                    self.store.put(escalated.dispatchId, deadlines.pending(escalated))
                self.store.put(dispatch_id, deadlines.Entry(
                    deadlines.State.ESCALATED, entry.due, entry.dispatch, entry.source
                ))
            centre, target = escalated.target, entry.dispatch.target
            metrics.sightings_routed.labels(
                centre.agencyId, centre.unitId or "", escalated.kind, escalated.rule
            ).inc()
            if escalated.flagged:
                metrics.sightings_flagged.labels(escalated.rule).inc()
            metrics.escalations.labels(target.agencyId, target.unitId or "").inc()
        return results

    def _tick_entry(self, dispatch_id: str, now: datetime) -> deadlines.Entry | None:
        """The entry to escalate on a tick, if any; a closed one past the dedupe window is
        deleted (run for the tick's partition)."""
        entry = self.store.get(dispatch_id)
        if entry is None:
            return None
        closed = entry.state is not deadlines.State.PENDING
        if closed or entry.dispatch.kind is DispatchKind.ESCALATION:
            if entry.due < now - self.context.scaled(RETENTION):
                self.store.delete(dispatch_id)  # past the dedupe window
            return None
        return entry if deadlines.overdue(entry, now) else None
