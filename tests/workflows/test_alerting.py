"""The alert workflow's decisions: Alert, widening Updates, Cancel, facilities (pure logic)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

from prometheus_client import CollectorRegistry

from exchange.cap import parse_cap, validate_cap
from exchange.codec import DecodedEvent, EventCodec
from exchange.examples.core import example_missing_person_report
from exchange.models.missing_persons import AlertMessageType, EmergencyAlert, MissingPersonStatus
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.schemas.catalogue import Catalogue
from exchange.topology import load_topology
from exchange.workflows.alerting import AlertState, AlertWorkflow, next_message, start
from exchange.workflows.runtime import Incoming, WorkflowContext
from exchange.workflows.runtime.metrics import WorkflowMetrics

JURISDICTION = load_jurisdiction()


def test_minor_report_alerts_then_widens_then_cancels() -> None:
    report = example_missing_person_report()
    report = report.model_copy(update={"reportedAt": report.lastSeenAt + timedelta(minutes=20)})
    now = report.reportedAt
    state = start(report, now, time_scale=1.0)
    assert state is not None
    assert [radius for _, radius in state.due] == [100, 200, 300, 500]

    sent = []
    for minutes in (0, 40, 100, 160):
        message = next_message(state, now + timedelta(minutes=minutes), JURISDICTION)
        assert message is not None
        sent.append(message.alert)
        state = AlertState.loads(message.state.dumps())  # through the table encoding
    assert next_message(state, now + timedelta(days=1), JURISDICTION) is None
    cancel = next_message(state, now + timedelta(days=1), JURISDICTION, cancel="found")
    assert cancel is not None
    sent.append(cancel.alert)

    assert [a.msgType for a in sent] == [
        AlertMessageType.ALERT, *[AlertMessageType.UPDATE] * 3, AlertMessageType.CANCEL
    ]
    assert [a.radiusKm for a in sent] == [100, 200, 300, 500, 0]
    for index, alert in enumerate(sent):
        assert validate_cap(alert.cap) == []
        summary = parse_cap(alert.cap)
        assert len(summary.references) == index  # every earlier message is referenced
    assert next_message(cancel.state, now + timedelta(days=2), JURISDICTION) is None


def test_facilities_inside_the_radius_are_named() -> None:
    report = example_missing_person_report()
    state = start(report, report.reportedAt, time_scale=1.0)
    assert state is not None
    message = next_message(state, report.reportedAt, JURISDICTION)
    assert message is not None
    within = {f.id for f in JURISDICTION.facilities_within(
        message.state.public.last_seen_point, message.alert.radiusKm)}
    assert set(message.alert.facilities) == within
    assert within  # Xi'an's stations lie within 100 km of a child last seen in the city


def test_no_alert_for_a_closed_or_adult_case() -> None:
    report = example_missing_person_report()
    assert start(report.model_copy(update={"status": MissingPersonStatus.FOUND}),
                 report.reportedAt, 1.0) is None
    assert start(report.model_copy(update={"publicAlert": False}), report.reportedAt, 1.0) is None


def test_time_scale_compresses_the_schedule() -> None:
    report = example_missing_person_report()
    state = start(report, report.reportedAt, time_scale=3600)
    assert state is not None
    times = [when for when, _ in state.due]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap <= timedelta(seconds=1) for gap in gaps)


class _Streams:
    """Stand-in for the runtime's Streams: the emitted alerts, each acknowledged after a
    moment (a broker round trip), so that two handlers can interleave as they do in a worker."""

    def __init__(self) -> None:
        self.sent: list[EmergencyAlert] = []
        self.tables: dict[str, dict[str, bytes]] = {}

    def table(self, name: str, _topic: str) -> dict[str, bytes]:
        return self.tables.setdefault(name, {})

    def raw_topic(self, name: str) -> str:
        return name

    def on(self, *_args: object) -> None:
        pass

    def ticker(self, *_args: object, **_kwargs: object) -> None:
        return None

    async def emit(self, event: EmergencyAlert, *_topics: str, **_kwargs: object) -> None:
        self.sent.append(event)
        await asyncio.sleep(0.01)


async def test_a_closure_and_a_due_update_at_once_send_two_messages_not_one_number_twice() -> None:
    """The report agent (Cancel) and the tick agent (Update) advance one alert at the same time:
    each must see what the other sent, so their messages carry numbers 1 and 2, not 1 twice."""
    report = example_missing_person_report()
    now = report.reportedAt
    clock = [now]
    streams = _Streams()
    context = WorkflowContext(codec=EventCodec(Catalogue.load()), topology=load_topology(),
                              metrics=WorkflowMetrics(CollectorRegistry()),
                              clock=lambda: clock[0])
    workflow = AlertWorkflow(None, context, streams, JURISDICTION)  # type: ignore[arg-type]
    await workflow.on_report(DecodedEvent(report, None, None, None), None)  # type: ignore[arg-type]
    assert [a.msgType for a in streams.sent] == [AlertMessageType.ALERT]
    clock[0] = now + timedelta(hours=5)  # the next step is due
    found = report.model_copy(update={"status": MissingPersonStatus.FOUND})
    tick = Incoming("ticks", 0, 0, None, report.caseId.encode(), [])
    await asyncio.gather(workflow.on_tick(tick),
                         workflow.on_report(DecodedEvent(found, None, None, None), None))  # type: ignore[arg-type]
    assert [(a.sequence, a.msgType) for a in streams.sent] == [
        (0, AlertMessageType.ALERT), (1, AlertMessageType.UPDATE), (2, AlertMessageType.CANCEL)
    ]
    assert len({a.identifier for a in streams.sent}) == 3
