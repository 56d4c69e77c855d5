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
from exchange.models.dispatch import DispatchKind, SightingDispatch
from exchange.models.events import TransportSighting
from exchange.workflows.jurisdiction import Jurisdiction
from exchange.workflows.routing import Target, ack_deadline, route_sighting
from exchange.workflows.runtime import Guard, Incoming, Workflow, WorkflowContext

SOURCE_TOPIC = "exchange.sighting"


def inbox_of(agency_id: str) -> str:
    return f"exchange.sighting.to.{agency_id}"


def dispatch_for(
    sighting: TransportSighting,
    *,
    dispatch_id: str,
    kind: DispatchKind,
    target: Target,
    rule: str,
    reason: str,
    flagged: bool,
    now: datetime,
) -> SightingDispatch:
    return SightingDispatch(
        dispatchId=dispatch_id,
        sightingId=sighting.sightingId,
        kind=kind,
        target=AgencyRef(agencyId=target.agency_id, unitId=target.unit_id),
        rule=rule,
        reason=reason,
        flagged=flagged,
        ackDueAt=now + ack_deadline(sighting),
        observedAt=sighting.observedAt,
        location=sighting.location,
        reporter=sighting.reporter,
        suspectedPersons=sighting.suspectedPersons,
        situation=sighting.situation,
        childAtRisk=sighting.childAtRisk,
        destination=sighting.destination,
        dispatchedAt=now,
    )


def plan_dispatches(
    sighting: TransportSighting, event_id: str, jurisdiction: Jurisdiction, now: datetime
) -> list[SightingDispatch]:
    """The dispatches one sighting produces (pure: the agent only sends them)."""
    decision = route_sighting(sighting, jurisdiction)
    dispatches = [
        dispatch_for(
            sighting, dispatch_id=f"{event_id}:respond", kind=DispatchKind.RESPOND,
            target=decision.target, rule=decision.rule, reason=decision.reason,
            flagged=decision.flagged, now=now,
        )
    ]
    if decision.intercept is not None:
        dispatches.append(
            dispatch_for(
                sighting, dispatch_id=f"{event_id}:intercept", kind=DispatchKind.INTERCEPT,
                target=decision.intercept, rule="next-stop",
                reason=decision.intercept_reason or "intercept at the train's next stop",
                flagged=decision.flagged, now=now,
            )
        )
    return dispatches


def register(jurisdiction: Jurisdiction) -> Workflow:
    """The workflow registration for :func:`exchange.workflows.runtime.create_app`."""

    def add_to(app: faust.App, context: WorkflowContext) -> None:
        partitions = context.topology.topic(SOURCE_TOPIC).partitions
        source = app.topic(
            SOURCE_TOPIC, key_type=bytes, value_type=bytes, partitions=partitions,
            key_serializer="raw", value_serializer="raw",
        )
        seen = app.Table(
            "sightings-seen", default=None, partitions=partitions, key_type=str, value_type=bytes
        )
        guard = Guard(app, context, seen)
        inboxes = {
            topic.addressed_to: app.topic(
                topic.name, key_type=bytes, value_type=bytes,
                key_serializer="raw", value_serializer="raw",
            )
            for topic in context.topology.topics
            if topic.name.startswith("exchange.sighting.to.") and topic.addressed_to
        }

        async def handle(decoded: DecodedEvent, record: Incoming) -> None:
            sighting = decoded.event
            if not isinstance(sighting, TransportSighting):
                raise TypeError(f"{SOURCE_TOPIC} carries TransportSighting, not {type(sighting)}")
            event_id = decoded.attributes.id
            for dispatch in plan_dispatches(sighting, event_id, jurisdiction, context.clock()):
                encoded = context.codec.encode(
                    dispatch, source=f"{context.source}/sightings", id=dispatch.dispatchId
                )
                inbox = inboxes[dispatch.target.agencyId]
                await inbox.send(key=encoded.key, value=encoded.value, headers=encoded.headers)
                context.metrics.sightings_routed.labels(
                    dispatch.target.agencyId, dispatch.target.unitId or "", dispatch.kind,
                    dispatch.rule,
                ).inc()
                if dispatch.flagged:
                    context.metrics.sightings_flagged.labels(dispatch.rule).inc()

        @app.agent(source, name="dispatch-sightings", concurrency=1)
        async def dispatch_sightings(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                await guard(event, handle)

    return add_to
