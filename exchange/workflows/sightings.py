"""Sighting -> police: every transport sighting is dispatched to the one responsible unit.

For each ``TransportSighting`` on ``exchange.sighting`` the routing rules
(:mod:`exchange.workflows.routing`) choose the responsible police unit; a ``SightingDispatch``
with the rule, the reason and the acknowledgement deadline goes to that police agency's inbox
(``exchange.sighting.to.<agency>``). A sighting on a moving train also asks the railway police
at the next stop to intercept: a second dispatch of kind ``INTERCEPT``.

Dispatch ids and CloudEvents ids derive from the sighting's own (``<ce_id>:respond``,
``<ce_id>:intercept``), so a replay after a crash re-sends the same events, not new ones.
"""

from __future__ import annotations

from datetime import datetime

import faust

from exchange.codec import DecodedEvent
from exchange.models.common import AgencyRef
from exchange.models.dispatch import DispatchAcknowledgement, DispatchKind, SightingDispatch
from exchange.models.events import TransportSighting
from exchange.workflows import deadlines
from exchange.workflows.jurisdiction import Jurisdiction
from exchange.workflows.routing import Target, ack_deadline, route_sighting
from exchange.workflows.runtime import Guard, Incoming, Streams, Workflow, WorkflowContext

SOURCE_TOPIC = "exchange.sighting"
ACK_TOPIC = "exchange.dispatch-ack"
REINDEX_EVERY = 30  # scans (seconds) between rebuilds of the in-memory deadline index


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


def register(jurisdiction: Jurisdiction) -> Workflow:
    """The workflow registration for :func:`exchange.workflows.runtime.create_app`."""

    def add_to(app: faust.App, context: WorkflowContext, streams: Streams) -> None:
        _SightingWorkflow(app, context, streams, jurisdiction)

    return add_to


class _SightingWorkflow:
    """Handlers, table, internal topic and timer of the sighting workflow."""

    def __init__(
        self, app: faust.App, context: WorkflowContext, streams: Streams,
        jurisdiction: Jurisdiction,
    ) -> None:
        self.app = app
        self.context = context
        self.jurisdiction = jurisdiction
        partitions = context.topology.topic(SOURCE_TOPIC).partitions
        if context.topology.topic(ACK_TOPIC).partitions != partitions:
            raise ValueError(f"{ACK_TOPIC} must have as many partitions as {SOURCE_TOPIC}")
        self.deadlines = streams.table("sightings-deadlines", SOURCE_TOPIC)
        self.inboxes = {
            topic.addressed_to: streams.raw_topic(topic.name)
            for topic in context.topology.topics
            if topic.name.startswith("exchange.sighting.to.") and topic.addressed_to
        }
        self.ticks = streams.raw_topic(
            f"{app.conf.id}-deadline-ticks", internal=True, partitions=partitions
        )
        self.due: dict[str, tuple[datetime, str]] = {}  # pending dispatch id -> due, sighting
        self.scans = 0
        streams.on(SOURCE_TOPIC, self.on_sighting)
        streams.on(ACK_TOPIC, self.on_acknowledgement)
        internal = Guard(app, context)

        @app.agent(self.ticks, name="deadline-ticks")
        async def deadline_ticks(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                await internal.raw(event, self.on_tick)

        app.timer(interval=1.0, name="deadline-scan")(self.scan)

    async def send(self, dispatch: SightingDispatch) -> None:
        context = self.context
        encoded = context.codec.encode(
            dispatch, source=f"{context.source}/sightings", id=dispatch.dispatchId
        )
        inbox = self.inboxes[dispatch.target.agencyId]
        await inbox.send(key=encoded.key, value=encoded.value, headers=encoded.headers)
        context.metrics.sightings_routed.labels(
            dispatch.target.agencyId, dispatch.target.unitId or "", dispatch.kind, dispatch.rule
        ).inc()
        if dispatch.flagged:
            context.metrics.sightings_flagged.labels(dispatch.rule).inc()
        if self.deadlines.get(dispatch.dispatchId) is None:
            self.deadlines[dispatch.dispatchId] = deadlines.pending(dispatch).dumps()
            if dispatch.kind is not DispatchKind.ESCALATION:
                self.due[dispatch.dispatchId] = (dispatch.ackDueAt, dispatch.sightingId)

    async def on_sighting(self, decoded: DecodedEvent, record: Incoming) -> None:
        sighting = decoded.event
        if not isinstance(sighting, TransportSighting):
            raise TypeError(f"{SOURCE_TOPIC} carries TransportSighting, not {type(sighting)}")
        context = self.context
        for dispatch in plan_dispatches(
            sighting, decoded.attributes.id, self.jurisdiction, context.clock(),
            context.time_scale,
        ):
            await self.send(dispatch)

    async def on_acknowledgement(self, decoded: DecodedEvent, record: Incoming) -> None:
        ack = decoded.event
        if not isinstance(ack, DispatchAcknowledgement):
            raise TypeError(f"{ACK_TOPIC} carries DispatchAcknowledgement, not {type(ack)}")
        raw = self.deadlines.get(ack.dispatchId)
        if raw is None:
            raise LookupError(f"acknowledgement of unknown dispatch {ack.dispatchId!r}")
        entry = deadlines.Entry.loads(raw)
        if ack.unit.agencyId != entry.dispatch.target.agencyId:
            raise PermissionError(
                f"{ack.unit.agencyId} acknowledged a dispatch addressed to "
                f"{entry.dispatch.target.agencyId}"
            )
        outcome = deadlines.acknowledge(entry, ack)
        if outcome is None:
            return  # acknowledged before: nothing changes
        closed, took = outcome
        del self.deadlines[ack.dispatchId]  # closed: only pending and escalated ones are kept
        self.due.pop(ack.dispatchId, None)
        metrics = self.context.metrics
        target = entry.dispatch.target
        metrics.acknowledged.labels(
            target.agencyId, target.unitId or "", closed.state.value
        ).inc()
        metrics.ack_seconds.labels(entry.dispatch.kind).observe(took.total_seconds())

    async def scan(self, *_: object) -> None:
        """Send a tick for each overdue dispatch this worker knows is pending.

        Runs every second over an in-memory index of pending deadlines, not over the table;
        the index is rebuilt from the table every :data:`REINDEX_EVERY` scans, which also picks
        up the partitions a rebalance gave this worker. (faust passes the app to a timer whose
        signature takes arguments; it is not needed.)"""
        self.scans += 1
        if self.scans % REINDEX_EVERY == 1:
            self.reindex()
        now = self.context.clock()
        for dispatch_id, (due, sighting_id) in list(self.due.items()):
            if due < now:
                del self.due[dispatch_id]
                await self.ticks.send(key=sighting_id.encode(), value=dispatch_id.encode())

    def reindex(self) -> None:
        self.due = {}
        for dispatch_id, raw in list(self.deadlines.items()):
            if raw is None:
                continue
            found = deadlines.peek(raw)
            if found.state is deadlines.State.PENDING and not found.escalation:
                self.due[dispatch_id] = (found.due, found.sighting_id)

    async def on_tick(self, record: Incoming) -> None:
        dispatch_id = (record.value or b"").decode()
        raw = self.deadlines.get(dispatch_id)
        now = self.context.clock()
        if raw is None:
            return
        entry = deadlines.Entry.loads(raw)
        if not deadlines.overdue(entry, now):
            return
        original = entry.dispatch
        deadline = original.ackDueAt - original.dispatchedAt  # the same time to acknowledge
        escalated = deadlines.escalation(entry, now, deadline)
        self.deadlines[dispatch_id] = deadlines.Entry(
            deadlines.State.ESCALATED, entry.due, entry.dispatch
        ).dumps()
        await self.send(escalated)
        target = entry.dispatch.target
        self.context.metrics.escalations.labels(target.agencyId, target.unitId or "").inc()

