"""Children of unknown origin against the real broker with a running worker: a school's report
routed to the police of the place with its deadline and DNA request; a poison record, a check
from another agency and a check of an unknown report dead-lettered; an unchecked report
escalated once, across a restart, while a checked one is not; a report published again after
the restart not dispatched again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from support.protection import send_signed

from exchange.codec import EventCodec
from exchange.examples.children import example_unknown_origin_check, example_unknown_origin_child
from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert
from exchange.models.unknown_origin import UnknownOriginChild, UnknownOriginDispatch
from tests.workflows.test_flows_broker import worker_has_read
from tests.workflows.test_referrals_broker import collect, publish
from tests.workflows.test_worker_broker import start_worker, stop_worker

pytestmark = pytest.mark.broker

INBOX = "exchange.unknown-origin.to.police"


def report(report_id: str, **update: Any) -> UnknownOriginChild:
    now = datetime.now(UTC)
    return example_unknown_origin_child().model_copy(update={
        "reportId": report_id, "observedAt": now, "reportedAt": now, **update,
    })  # fmt: skip


async def dispatched(provisioned: Any, codec: EventCodec, ids: set[str], *, settle: bool = False,
                     ) -> list[UnknownOriginDispatch]:
    return await collect(
        provisioned, codec, INBOX, "police",
        lambda e: isinstance(e, UnknownOriginDispatch) and e.reportId in ids,
        until=(lambda f: False) if settle else (lambda f: {d.reportId for d in f} >= ids),
        timeout_s=8 if settle else 60,
    )


def dead_letter_message(record: Any) -> str:
    return str(dict(record.headers).get("exchange.error.message", b"").decode())


async def test_reports_are_routed_and_bad_checks_and_poison_dead_lettered(
    provisioned: Any, codec: EventCodec
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    worker = start_worker(provisioned)
    try:
        poison = await send_signed(provisioned, "education", "exchange.unknown-origin-child",
                                   b"not an event", key=f"P-{run}".encode())
        school = report(f"UOC-S-{run}")
        await publish(provisioned, codec, "education", school)
        [dispatch] = await dispatched(provisioned, codec, {school.reportId})
        assert dispatch.target.unitId == "police.yanta"
        assert dispatch.deadlineRule == "school-enrolment"
        assert dispatch.dnaSampleRequested
        assert dispatch.givenName == school.givenName  # the police need the child's data
        railway = AgencyRef(agencyId="railway-police", unitId="railway-police.xian-station")
        check = example_unknown_origin_check()
        await publish(provisioned, codec, "railway-police", check.model_copy(update={
            "reportId": school.reportId, "unit": railway}))  # fmt: skip
        await publish(provisioned, codec, "police", check.model_copy(update={
            "reportId": f"UOC-NONE-{run}"}))  # fmt: skip
        dead = await collect(
            provisioned, codec, "exchange.deadletter.workflows", None,
            lambda r: run.encode() in (r.key or b"") and dict(r.headers).get(
                "exchange.original.topic") in {
                b"exchange.unknown-origin-check", b"exchange.unknown-origin-child"},
            until=lambda f: len(f) >= 3,
        )
        by_topic = {
            (dict(r.headers)["exchange.original.topic"].decode(), dead_letter_message(r))
            for r in dead
        }
        origins = {
            (dict(r.headers)["exchange.original.topic"].decode(),
             int(dict(r.headers)["exchange.original.offset"]))
            for r in dead
        }  # fmt: skip
        assert ("exchange.unknown-origin-child", poison.offset) in origins
        messages = sorted(m for t, m in by_topic if t == "exchange.unknown-origin-check")
        assert any("[unknown-origin-addressee]" in m and "railway-police" in m for m in messages)
        assert any(f"unknown report 'UOC-NONE-{run}'" in m for m in messages)
    finally:
        stop_worker(worker)
    await asyncio.sleep(0)


async def test_an_unchecked_report_escalates_once_across_a_restart(
    provisioned: Any, codec: EventCodec
) -> None:
    """With --time-scale 17280 a day lasts 5 s: a school's report (168 h, 35 s) falls overdue
    after the worker that dispatched it was stopped and another started."""
    run = uuid.uuid4().hex[:8].upper()
    checked, unchecked = (report(f"UOC-{k}-{run}") for k in ("C", "U"))
    ids = {checked.reportId, unchecked.reportId}
    worker = start_worker(provisioned, "--time-scale", "17280")
    try:
        await publish(provisioned, codec, "education", checked, unchecked)
        dispatches = await dispatched(provisioned, codec, ids)
        assert {d.deadlineRule for d in dispatches} == {"school-enrolment"}
        await publish(provisioned, codec, "police", example_unknown_origin_check().model_copy(
            update={"reportId": checked.reportId, "checkedAt": datetime.now(UTC)}))
        await worker_has_read(provisioned, "exchange.unknown-origin-check")
        stop_worker(worker)  # before the deadline: the restarted worker must remember it
        restarted = datetime.now(UTC)
        assert restarted < dispatches[0].checkDueAt
        worker = start_worker(provisioned, "--time-scale", "17280")
        await publish(provisioned, codec, "education", unchecked)  # the same report again
        # the first read waits for the alert, the second (same alert) for any copy of it
        for agency, wait in (("police", 60), ("joint-meeting-office", 8)):
            alerts = await collect(
                provisioned, codec, f"exchange.compliance.to.{agency}", agency,
                lambda e: isinstance(e, ComplianceAlert) and e.subject in ids,
                until=lambda f, first=wait > 8: first and len(f) >= 1, timeout_s=wait,
            )
            assert [a.subject for a in alerts] == [unchecked.reportId], agency
            assert alerts[0].kind.value == "UNKNOWN_ORIGIN_UNCHECKED"
            assert "police.yanta" in alerts[0].reason
            assert alerts[0].raisedAt > restarted
        again = await dispatched(provisioned, codec, ids, settle=True)
        assert sorted(d.reportId for d in again) == sorted(ids), "dispatched again"
    finally:
        if worker.poll() is None:
            stop_worker(worker)
    await asyncio.sleep(0)
