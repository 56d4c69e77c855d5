"""The alert workflow's decisions: Alert, widening Updates, Cancel, facilities (pure logic)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from exchange.cap import parse_cap, validate_cap
from exchange.examples.core import example_missing_person_report
from exchange.models.missing_persons import AlertMessageType, MissingPersonStatus
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.workflows.alerting import AlertState, next_message, start

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
