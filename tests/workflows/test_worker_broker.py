"""The workflow worker against the real broker: routing, dead letters, dedupe, restart, SIGTERM."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry
from support.protection import send_signed
from support.worker import (
    dispatches,
    distinct,
    publish,
    sighting,
    start_worker,
    stop_worker,
)

from exchange.cap import parse_cap, validate_cap
from exchange.client.publisher import Publisher
from exchange.codec import EventCodec
from exchange.examples import example_json
from exchange.examples.core import example_missing_person_report
from exchange.metrics import BusMetrics
from exchange.models.exceptions import validate_event
from exchange.models.missing_persons import (
    CandidateMatch,
    EmergencyAlert,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.models.sightings import DispatchAcknowledgement, SightingDispatch
from exchange.rules.public_alert import public_reference

pytestmark = pytest.mark.broker


async def test_sightings_reach_the_responsible_units(
    provisioned, codec: EventCodec, worker: subprocess.Popen[bytes]
) -> None:
    run = uuid.uuid4().hex[:6]
    on_train = sighting(f"T-{run}")  # train G87 at Xi'an North, next stop Hanzhong
    street = sighting(f"S-{run}", facility=None, regionCode="610113", lat=34.2235, lon=108.9474)
    await publish(provisioned, codec, on_train, street)

    railway = await dispatches(provisioned, codec, "railway-police", {on_train.sightingId}, want=2)
    kinds = sorted(d.kind.value for d in distinct(railway))
    assert kinds == ["INTERCEPT", "RESPOND"], railway
    respond = next(d for d in railway if d.kind.value == "RESPOND")
    assert respond.rule == "railway-facility"
    assert respond.reason
    assert respond.ackDueAt > respond.dispatchedAt

    police = await dispatches(provisioned, codec, "police", {street.sightingId}, want=1)
    assert len(distinct(police)) == 1, police
    assert police[0].target.unitId == "police.yanta"
    assert police[0].rule == "region-code"


async def test_poison_is_dead_lettered_duplicates_dropped_and_restart_keeps_state(
    provisioned, codec: EventCodec
) -> None:
    run = uuid.uuid4().hex[:6]
    worker = start_worker(provisioned)
    try:
        poison = await send_signed(provisioned, "transport", "exchange.sighting",
                                   b"not an event", key=b"p")
        first = sighting(f"D-{run}", facility=None, regionCode="610113")
        event_id = f"dup-{run}"
        await publish(provisioned, codec, first, event_id=event_id)
        await publish(provisioned, codec, first, event_id=event_id)  # the same event again
        # A duplicate (same ce_source + ce_id) makes no new dispatch; while the dispatch is not
        # acknowledged it is sent again with the same id, for the receiver to drop.
        respond = f"{event_id}:respond"
        got = await dispatches(provisioned, codec, "police", {first.sightingId}, want=1)
        assert {d.dispatchId for d in got} == {respond}, got
        took = stop_worker(worker)
        assert took < 30

        # Restarted, the worker still knows the event (its table comes back from the changelog).
        worker = start_worker(provisioned)
        await publish(provisioned, codec, first, event_id=event_id)
        later = sighting(f"L-{run}", facility=None, regionCode="610113")
        await publish(provisioned, codec, later)
        assert len(distinct(
            await dispatches(provisioned, codec, "police", {later.sightingId}, want=1)
        )) == 1
        again = await dispatches(provisioned, codec, "police", {first.sightingId}, want=1)
        assert {d.dispatchId for d in again} == {respond}, "a restart made a new dispatch"
    finally:
        if worker.poll() is None:
            stop_worker(worker)

    dlq = AIOKafkaConsumer(
        "exchange.deadletter.workflows", **provisioned.broker.admin.aiokafka_kwargs(),
        group_id=f"operators.test.{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest",
    )
    await dlq.start()
    reasons = {}
    try:
        deadline = time.monotonic() + 30
        while (poison.partition, poison.offset) not in reasons and time.monotonic() < deadline:
            for records in (await dlq.getmany(timeout_ms=500)).values():
                for record in records:
                    # errors="replace": other tests' records may carry binary headers
                    # (exchange.sealed version 2), kept as they were in the dead letter
                    headers = {k: v.decode(errors="replace") for k, v in record.headers}
                    if headers.get("exchange.original.topic") == "exchange.sighting":
                        origin = (int(headers["exchange.original.partition"]),
                                  int(headers["exchange.original.offset"]))
                        reasons[origin] = headers["exchange.error.reason"]
    finally:
        await dlq.stop()
    assert reasons[(poison.partition, poison.offset)] == "not-single-object"
    await asyncio.sleep(0)


async def acknowledge(provisioned, codec: EventCodec, dispatch: SightingDispatch) -> None:
    ack = DispatchAcknowledgement(
        dispatchId=dispatch.dispatchId, sightingId=dispatch.sightingId, unit=dispatch.target,
        acknowledgedAt=datetime.now(UTC),
    )
    async with Publisher(
        provisioned.kafka_as(dispatch.target.agencyId), codec, provisioned.topology,
        agency=dispatch.target.agencyId, source="/agencies/police/test",
        metrics=BusMetrics.on(CollectorRegistry()),
        protection=provisioned.protection_for(dispatch.target.agencyId),
    ) as publisher:
        await publisher.publish(ack)


async def test_unacknowledged_dispatch_escalates_and_timers_survive_a_restart(
    provisioned, codec: EventCodec
) -> None:
    """With --time-scale 60 a child-at-risk deadline of 5 minutes lasts 5 seconds."""
    run = uuid.uuid4().hex[:6]
    worker = start_worker(provisioned, "--time-scale", "60")
    try:
        ignored = sighting(f"E-{run}", facility=None, regionCode="610113")
        answered = sighting(f"A-{run}", facility=None, regionCode="610113")
        await publish(provisioned, codec, ignored, answered)
        first = await dispatches(
            provisioned, codec, "police", {answered.sightingId}, want=1, settle_s=0
        )
        await acknowledge(provisioned, codec, first[0])

        seen = await dispatches(
            provisioned, codec, "police", {ignored.sightingId, answered.sightingId}, want=3,
            settle_s=8,
        )
        escalations = [d for d in distinct(seen) if d.kind.value == "ESCALATION"]
        assert [d.sightingId for d in escalations] == [ignored.sightingId]
        assert escalations[0].target.unitId == "police.command-centre"
        assert escalations[0].escalatedFrom is not None
        assert escalations[0].escalatedFrom.unitId == "police.yanta"

        # The deadline passes while no worker runs; the restarted worker still escalates.
        down = sighting(f"R-{run}", facility=None, regionCode="610113")
        await publish(provisioned, codec, down)
        await dispatches(provisioned, codec, "police", {down.sightingId}, want=1, settle_s=0)
        stop_worker(worker)
        await asyncio.sleep(8)
        worker = start_worker(provisioned, "--time-scale", "60")
        after = await dispatches(provisioned, codec, "police", {down.sightingId}, want=2)
        # The restarted worker may read the sighting again (if the stop came before its offset
        # was committed) and re-send the unacknowledged dispatch: the same id, not a new one.
        assert sorted(d.kind.value for d in distinct(after)) == ["ESCALATION", "RESPOND"]
    finally:
        if worker.poll() is None:
            stop_worker(worker)


async def alerts_for(provisioned, codec: EventCodec, reference: str, *, until_cancel: bool,
                     timeout_s: float = 60, enough: int = 4) -> list[EmergencyAlert]:
    consumer = AIOKafkaConsumer(
        "exchange.alert.to.transport", **provisioned.kafka_as("transport").aiokafka_kwargs(),
        group_id=f"transport.test.{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[EmergencyAlert] = []
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    event = provisioned.open_as("transport", record).event
                    if isinstance(event, EmergencyAlert) and event.reference == reference:
                        found.append(event)
            done = found and found[-1].msgType.value == "CANCEL"
            if (until_cancel and done) or (not until_cancel and len(found) >= enough):
                break
    finally:
        await consumer.stop()
    return found


async def test_missing_child_alert_widens_then_cancels(provisioned, codec: EventCodec) -> None:
    """With --time-scale 3600 an hour of the Tuanyuan schedule lasts a second."""
    report = example_missing_person_report()
    report = report.model_copy(update={
        "caseId": f"A610113{uuid.uuid4().hex[:12].upper()}",
        "reportedAt": report.lastSeenAt + timedelta(minutes=20),
    })
    reference = public_reference(report.caseId)
    worker = start_worker(provisioned, "--time-scale", "3600")
    try:
        async with Publisher(
            provisioned.kafka_as("police"), codec, provisioned.topology, agency="police",
            source="/agencies/police/test", metrics=BusMetrics.on(CollectorRegistry()),
            protection=provisioned.protection_for("police"),
        ) as publisher:
            await publisher.publish(report)
            widened = await alerts_for(provisioned, codec, reference, until_cancel=False)
            assert [a.radiusKm for a in widened] == [100, 200, 300, 500]
            found = report.model_copy(update={"status": MissingPersonStatus.FOUND})
            await publisher.publish(found)
        everything = await alerts_for(provisioned, codec, reference, until_cancel=True)
    finally:
        stop_worker(worker)
    kinds = [a.msgType.value for a in everything]
    assert kinds == ["ALERT", "UPDATE", "UPDATE", "UPDATE", "CANCEL"]
    for index, alert in enumerate(everything):
        assert validate_cap(alert.cap) == []
        assert len(parse_cap(alert.cap).references) == index
    id_number = report.missingPerson.documents[0].number
    assert all(id_number not in a.cap for a in everything)
    assert report.caseId not in everything[0].cap


def matching_report(case_id: str) -> MissingPersonReport:
    """A missing 5-year-old boy in a red T-shirt, last seen in Yanta 80 min before the
    example sighting on train G87 at Xi'an North (which describes such a boy)."""
    data = example_json("missing-person-report")
    person = data["missingPerson"]
    person.pop("documents", None)
    person.pop("birthDate", None)
    person["description"] = {
        "ageYears": 5, "gender": "MALE", "clothing": "red T-shirt, blue shorts",
    }
    data.update(caseId=case_id, lastSeenAt="2025-05-18T16:40:00+08:00",
                reportedAt="2025-05-18T17:05:00+08:00")
    return validate_event(MissingPersonReport, data)


async def publish_report(provisioned, codec: EventCodec, report: MissingPersonReport) -> None:
    async with Publisher(
        provisioned.kafka_as("police"), codec, provisioned.topology, agency="police",
        source="/agencies/police/test", metrics=BusMetrics.on(CollectorRegistry()),
        protection=provisioned.protection_for("police"),
    ) as publisher:
        await publisher.publish(report)


def distinct_matches(matches: list[CandidateMatch]) -> set[str]:
    return {m.matchId for m in matches}


async def matches_for(
    provisioned, codec: EventCodec, sighting_id: str, case_id: str, timeout_s: float = 60
) -> list[CandidateMatch]:
    """The candidate matches of ``sighting_id`` with ``case_id`` in the police's match inbox,
    from the first batch that has any (other tests' open cases may match the sighting too)."""
    consumer = AIOKafkaConsumer(
        "exchange.match.to.police", **provisioned.kafka_as("police").aiokafka_kwargs(),
        group_id=f"police.test.{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest",
    )
    await consumer.start()
    matches: list[CandidateMatch] = []
    try:
        deadline = time.monotonic() + timeout_s
        while not matches and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    event = provisioned.open_as("police", record).event
                    if isinstance(event, CandidateMatch) and (
                        event.sightingId, event.caseId) == (sighting_id, case_id):
                        matches.append(event)
    finally:
        await consumer.stop()
    return matches


async def test_sighting_matching_an_open_case_reaches_the_case_owner(
    provisioned, codec: EventCodec
) -> None:
    worker = start_worker(provisioned)
    run = uuid.uuid4().hex[:8].upper()
    report = matching_report(f"A610113M{run}")
    try:
        await publish_report(provisioned, codec, report)
        # The worker has read the report once its alert is out; the open-cases agent reads the
        # same record next to the alert agent.
        assert await alerts_for(provisioned, codec, public_reference(report.caseId),
                                until_cancel=False, enough=1)
        await asyncio.sleep(2)
        seen = sighting(f"M-{run}")
        await publish(provisioned, codec, seen)
        matches = await matches_for(provisioned, codec, seen.sightingId, report.caseId)
    finally:
        stop_worker(worker)
    assert len(distinct_matches(matches)) == 1, matches
    match = matches[0]
    assert match.score >= 0.6
    assert {f.factor for f in match.factors} >= {"gender", "age", "clothing", "distance", "time"}
    assert match.owner.unitId == report.reportingUnit.unitId


async def test_a_case_reported_after_its_sighting_is_matched_with_it(
    provisioned, codec: EventCodec
) -> None:
    """The sighting is handled before its case exists; the case, reported later, is compared
    with the sightings published since the child was last seen."""
    worker = start_worker(provisioned)
    run = uuid.uuid4().hex[:8].upper()
    try:
        early = sighting(f"P-{run}")
        await publish(provisioned, codec, early)
        assert distinct(await dispatches(  # handled: routed before this case was reported
            provisioned, codec, "railway-police", {early.sightingId}, want=2, settle_s=0
        ))
        report = matching_report(f"A610113L{run}")
        await publish_report(provisioned, codec, report)
        matches = await matches_for(provisioned, codec, early.sightingId, report.caseId)
    finally:
        stop_worker(worker)
    assert len(distinct_matches(matches)) == 1, matches
    assert matches[0].score >= 0.6
    assert matches[0].matchId == f"{early.sightingId}~{report.caseId}"


async def test_closed_deadlines_are_swept_after_the_dedupe_window(
    provisioned, codec: EventCodec
) -> None:
    """At --time-scale 20000 the 7-day window lasts 30 s and the deadline (5 min) 15 ms: the
    dispatch escalates at once, is closed, and is swept 30 s later. A duplicate inside the
    window produces nothing; once swept, the table no longer knows it and it is dispatched
    again (under the same id): the table does not grow without bound. The worker is restarted
    before that last publication: its verifier remembers the event ids it read while the process
    lives (the same id again is quarantined as replayed); the table is what must forget."""
    run = uuid.uuid4().hex[:6]
    worker = start_worker(provisioned, "--time-scale", "20000")
    try:
        seen = sighting(f"W-{run}", facility=None, regionCode="610113")
        event_id = f"window-{run}"
        await publish(provisioned, codec, seen, event_id=event_id)
        respond = f"{event_id}:respond"
        got = await dispatches(provisioned, codec, "police", {seen.sightingId}, want=2)
        assert {d.dispatchId for d in got} == {respond, f"{respond}:escalation"}, got
        await publish(provisioned, codec, seen, event_id=event_id)  # inside the window
        await asyncio.sleep(3)
        inside = await dispatches(provisioned, codec, "police", {seen.sightingId}, want=2)
        assert sum(d.dispatchId == respond for d in inside) == 1, "escalated: nothing re-sent"
        await asyncio.sleep(35)
        stop_worker(worker)
        worker = start_worker(provisioned, "--time-scale", "20000")  # its table from the changelog
        await publish(provisioned, codec, seen, event_id=event_id)  # after the sweep
        waited = time.monotonic() + 90  # the restarted worker first recovers its tables
        while True:
            after = await dispatches(provisioned, codec, "police", {seen.sightingId}, want=2,
                                     settle_s=3)
            if sum(d.dispatchId == respond for d in after) >= 2 or time.monotonic() > waited:
                break
        assert sum(d.dispatchId == respond for d in after) == 2, "the closed entry was kept"
    finally:
        if worker.poll() is None:
            stop_worker(worker)
