"""Missing-minor report -> emergency alert that widens with time, until the case closes.

A ``MissingPersonReport`` of category MINOR with ``publicAlert`` set and status OPEN starts an
alert: a CAP 1.2 ``Alert`` at once, with the radius that applies to the time since the child was
last seen (Tuanyuan schedule, :mod:`exchange.rules.public_alert`), then an ``Update`` at each
later step (200, 300, 500 km). A later report of the same case that is no longer OPEN (found, or
the report was false) sends the ``Cancel`` at once. Every message references all earlier ones.

Each message goes, as an ``EmergencyAlert`` event carrying the CAP document, to
``exchange.public-alert`` (public alerting systems) and to ``exchange.alert.to.transport`` with
the transport facilities inside the radius. The alert's state (steps, messages sent) lives in a
table keyed by case id, so the steps survive a restart; a timer sends ticks to the internal topic
``<app id>-alert-ticks`` (keyed by case id, co-partitioned with ``exchange.missing-person``) and
the tick agent sends the due Update, as in :mod:`exchange.rules.deadlines`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import faust

from exchange.cap import CapReference, build_cap, message_identifier
from exchange.codec import DecodedEvent
from exchange.models.missing_persons import (
    AlertMessageType,
    EmergencyAlert,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.rules.jurisdiction import Jurisdiction
from exchange.rules.public_alert import (
    AlertNotAllowedError,
    PublicAlert,
    plan_steps,
    public_alert_from,
)
from exchange.workflows.runtime import Incoming, Streams, WorkflowContext

SOURCE_TOPIC = "exchange.missing-person"
PUBLIC_TOPIC = "exchange.public-alert"
TRANSPORT_TOPIC = "exchange.alert.to.transport"
SENDER = "xian.gongan@exchange.bus"  # CAP sender: the city police via the bus (no spaces, commas)
EXPIRES_AFTER = timedelta(hours=24)  # each message is valid a day; a newer one supersedes it


@dataclass(frozen=True)
class AlertState:
    """What the table keeps per case."""

    public: PublicAlert
    due: tuple[tuple[datetime, int], ...]  # (when, radius km) of every step, the Alert first
    sent: tuple[CapReference, ...] = ()
    cancelled: bool = False
    radius: int = 0

    @property
    def next_step(self) -> int:
        return len(self.sent)

    def dumps(self) -> bytes:
        return json.dumps({
            "public": self.public.model_dump(mode="json"),
            "due": [[when.isoformat(), radius] for when, radius in self.due],
            "sent": [[r.sender, r.identifier, r.sent.isoformat()] for r in self.sent],
            "cancelled": self.cancelled,
            "radius": self.radius,
        }).encode()

    @classmethod
    def loads(cls, raw: bytes) -> AlertState:
        data: dict[str, Any] = json.loads(raw)
        return cls(
            public=PublicAlert.model_validate(data["public"]),
            due=tuple((datetime.fromisoformat(w), r) for w, r in data["due"]),
            sent=tuple(
                CapReference(sender, ident, datetime.fromisoformat(when))
                for sender, ident, when in data["sent"]
            ),
            cancelled=data["cancelled"],
            radius=data["radius"],
        )


def start(report: MissingPersonReport, now: datetime, time_scale: float) -> AlertState | None:
    """The state of a new alert for ``report``, or None when it gets no public alert."""
    try:
        public = public_alert_from(report)
    except AlertNotAllowedError:
        return None
    steps = plan_steps(report.lastSeenAt, report.reportedAt)
    due = tuple(
        (now + (step.at - report.reportedAt) / time_scale, step.radius_km) for step in steps
    )
    return AlertState(public=public, due=due)


@dataclass
class Message:
    """One CAP message to send, and the state after sending it."""

    alert: EmergencyAlert
    state: AlertState
    facilities: tuple[str, ...] = field(default=())


def next_message(
    state: AlertState, now: datetime, jurisdiction: Jurisdiction, *, cancel: str | None = None
) -> Message | None:
    """The message due now (Alert, Update, or Cancel when ``cancel`` gives the reason)."""
    if state.cancelled:
        return None
    sequence = state.next_step
    if cancel is not None:
        if not state.sent:
            return None  # nothing was ever announced: nothing to cancel
        msg_type, radius = "Cancel", 0
    elif sequence < len(state.due) and state.due[sequence][0] <= now:
        msg_type = "Alert" if sequence == 0 else "Update"
        radius = state.due[sequence][1]
    else:
        return None
    identifier = message_identifier(state.public.reference, sequence)
    cap = build_cap(
        state.public, identifier=identifier, sender=SENDER, sent=now,
        msg_type=msg_type,  # type: ignore[arg-type]
        references=state.sent, radius_km=radius or state.radius, expires=now + EXPIRES_AFTER,
        cancel_reason=cancel,  # type: ignore[arg-type]
    )
    point = state.public.last_seen_point
    facilities = (
        tuple(f.id for f in jurisdiction.facilities_within(point, radius)) if radius else ()
    )
    alert = EmergencyAlert(
        identifier=identifier, reference=state.public.reference,
        msgType=AlertMessageType(msg_type.upper()), sequence=sequence, radiusKm=radius,
        centreLat=point.lat, centreLon=point.lon, sent=now,
        expires=None if cancel else now + EXPIRES_AFTER, facilities=facilities, cap=cap,
    )
    after = replace(
        state, sent=(*state.sent, CapReference(SENDER, identifier, now)),
        cancelled=cancel is not None, radius=radius or state.radius,
    )
    return Message(alert, after, facilities)


class AlertWorkflow:
    """Handlers, table and ticker of the emergency alert workflow."""

    def __init__(
        self, app: faust.App, context: WorkflowContext, streams: Streams,
        jurisdiction: Jurisdiction,
    ) -> None:
        self.context = context
        self.streams = streams
        self.jurisdiction = jurisdiction
        self.alerts = streams.table("alerts", SOURCE_TOPIC)
        self.public = streams.raw_topic(PUBLIC_TOPIC)
        self.transport = streams.raw_topic(TRANSPORT_TOPIC)
        self.ticked: dict[str, int] = {}
        # The report agent (a closure: Cancel) and the tick agent (a due Update) both advance
        # an alert: each reads the state, sends the next message, awaits its acknowledgement,
        # then writes the state. Interleaved, both would send message N under one identifier
        # (an Update and a Cancel). One advance at a time; alerts are few.
        self._advancing = asyncio.Lock()
        streams.on(SOURCE_TOPIC, self.on_report)
        self.ticker = streams.ticker(
            "alert", source=SOURCE_TOPIC, scan=self.scan, on_tick=self.on_tick
        )

    async def on_report(self, decoded: DecodedEvent, record: Incoming) -> None:
        report = decoded.event
        if not isinstance(report, MissingPersonReport):
            raise TypeError(f"{SOURCE_TOPIC} carries MissingPersonReport, not {type(report)}")
        async with self._advancing:
            now = self.context.clock()
            raw = self.alerts.get(report.caseId)
            if raw is None:
                state = start(report, now, self.context.time_scale)
                if state is not None:
                    await self._advance(report.caseId, state, now)
                return
            if report.status is not MissingPersonStatus.OPEN:
                reason = "found" if report.status is MissingPersonStatus.FOUND else "withdrawn"
                await self._advance(report.caseId, AlertState.loads(raw), now, cancel=reason)

    async def scan(self) -> None:
        """Send a tick for each alert whose next step is due (once per step per process)."""
        now = self.context.clock()
        for case_id, raw in list(self.alerts.items()):
            if raw is None:
                continue
            state = AlertState.loads(raw)
            step = state.next_step
            if state.cancelled or step >= len(state.due) or state.due[step][0] > now:
                continue
            if self.ticked.get(case_id) == step:
                continue
            self.ticked[case_id] = step
            await self.ticker.tick(case_id, case_id)

    async def on_tick(self, record: Incoming) -> None:
        case_id = (record.value or b"").decode()
        async with self._advancing:
            raw = self.alerts.get(case_id)
            if raw is not None:
                await self._advance(case_id, AlertState.loads(raw), self.context.clock())

    async def _advance(
        self, case_id: str, state: AlertState, now: datetime, *, cancel: str | None = None
    ) -> None:
        """Send the message due and record it; called under :attr:`_advancing`, with the state
        read under it."""
        message = next_message(state, now, self.jurisdiction, cancel=cancel)
        if message is None:
            if not state.sent:
                self.alerts[case_id] = state.dumps()
            return
        context = self.context
        await self.streams.emit(
            message.alert, self.public, self.transport, id=message.alert.identifier,
            source="alerts", confirmed=True,  # the case's alert state records it next
        )
        self.alerts[case_id] = message.state.dumps()
        alert = message.alert
        context.metrics.alerts.labels(alert.msgType.value, str(alert.radiusKm)).inc()
