"""One chief, three responsibilities against the real broker with a running worker: a missing
child's case names its chief with three duties assigned; a poison record (unsigned) is
quarantined; a record for an unknown case, a unit's word that the child is rescued and an
aftermath settled before the rescue are dead-lettered with their rules; after a restart a tip
naming the case (keyed by tip id, re-keyed to the case) puts solving and rescue in progress, the
rescue discharges the rescue duty, and the unit's records solve the case and settle the
aftermath. A rescue read before its case's report waits for it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from support.protection import quarantine_reasons

from exchange.codec import EventCodec
from exchange.examples.cold_cases import example_chief_duty_report
from exchange.examples.core import example_missing_person_report, example_rescue
from exchange.examples.intake import example_public_tip
from exchange.models.chief_responsibility import (
    ChiefDutyKind,
    ChiefDutyReport,
    ChiefDutyState,
    ChiefResponsibility,
)
from exchange.models.common import AgencyRef
from tests.workflows.test_flows_broker import worker_has_read
from tests.workflows.test_referrals_broker import collect, publish
from tests.workflows.test_worker_broker import start_worker, stop_worker

pytestmark = pytest.mark.broker

LIANHU = AgencyRef(agencyId="police", unitId="police.lianhu")
RECORDS = "exchange.chief-duty-report"


def states(case: ChiefResponsibility) -> tuple[str, ...]:
    return tuple(f"{d.duty.value}:{d.state.value}" for d in case.duties)


async def entries(provisioned: Any, codec: EventCodec, case_id: str,
                  until: Callable[[list[Any]], bool]) -> list[ChiefResponsibility]:  # fmt: skip
    return await collect(
        provisioned, codec, "exchange.chief-responsibility", "joint-meeting-office",
        lambda e: isinstance(e, ChiefResponsibility) and e.caseId == case_id, until=until,
    )


async def dead_letters(provisioned: Any, codec: EventCodec, run: str, want: int) -> list[str]:
    found = await collect(
        provisioned, codec, "exchange.deadletter.workflows", None,
        lambda r: run.encode() in (r.key or b"") and dict(r.headers).get(
            "exchange.original.topic") == RECORDS.encode(),
        until=lambda f: len(f) >= want,
    )
    return [dict(r.headers).get("exchange.error.message", b"").decode()
            or dict(r.headers)["exchange.error.reason"].decode() for r in found]  # fmt: skip


async def send_poison(provisioned: Any, run: str) -> tuple[str, int, int]:
    """A record that is no signed event; where it went (topic, partition, offset)."""
    raw = AIOKafkaProducer(**provisioned.kafka_as("police").aiokafka_kwargs())
    await raw.start()
    try:
        sent = await raw.send_and_wait(RECORDS, b"not an event", key=f"P-{run}".encode())
    finally:
        await raw.stop()
    return RECORDS, sent.partition, sent.offset


async def test_the_chief_answers_for_solving_rescuing_and_settling(
    provisioned: Any, codec: EventCodec
) -> None:
    run = uuid.uuid4().hex[:10].upper()
    now = datetime.now(UTC)
    report = example_missing_person_report().model_copy(update={
        "caseId": f"A610104{run}", "lastSeenAt": now, "reportedAt": now,
        "reportingUnit": LIANHU, "publicAlert": False,
    })  # fmt: skip

    def record(duty: ChiefDutyKind, ref: str) -> ChiefDutyReport:
        return example_chief_duty_report().model_copy(update={
            "caseId": report.caseId, "duty": duty, "reportedBy": LIANHU,
            "recordRef": f"{ref}-{run}", "reportedAt": datetime.now(UTC)})  # fmt: skip

    worker = start_worker(provisioned)
    try:
        await publish(provisioned, codec, "police", report)
        [first] = await entries(provisioned, codec, report.caseId, lambda f: len(f) >= 1)
        assert states(first) == ("SOLVE:ASSIGNED", "RESCUE:ASSIGNED", "SETTLE:ASSIGNED")
        assert "police.lianhu" in first.chief
        poison = await send_poison(provisioned, run)
        unknown = record(ChiefDutyKind.SOLVE, "PA").model_copy(
            update={"caseId": f"A-NONE-{run}"})
        await publish(provisioned, codec, "police", unknown)
        await dead_letters(provisioned, codec, run, 1)  # the worker is reading
        await worker_has_read(provisioned, "exchange.missing-person")
        stop_worker(worker)
        worker = start_worker(provisioned)
        await publish(provisioned, codec, "police", record(ChiefDutyKind.RESCUE, "JJ"),
                      record(ChiefDutyKind.SETTLE, "SH0"))
        messages = await dead_letters(provisioned, codec, run, 3)
        tip = example_public_tip().model_copy(update={
            "tipId": f"TIP-{run}", "caseId": report.caseId, "receivedAt": now,
            "reportedAt": now})  # fmt: skip
        await publish(provisioned, codec, tip.receivedBy.agencyId, tip)
        await entries(provisioned, codec, report.caseId,
                      lambda f: bool(f) and states(f[-1])[0] == "SOLVE:IN_PROGRESS")
        rescue = example_rescue().model_copy(update={
            "rescueId": f"RS-{run}", "caseId": report.caseId, "rescuedAt": datetime.now(UTC),
            "reportedAt": datetime.now(UTC), "rescuingUnit": LIANHU})  # fmt: skip
        await publish(provisioned, codec, "police", rescue)
        await entries(provisioned, codec, report.caseId,
                      lambda f: bool(f) and states(f[-1])[1] == "RESCUE:DISCHARGED")
        await publish(provisioned, codec, "police", record(ChiefDutyKind.SOLVE, "PA"),
                      record(ChiefDutyKind.SETTLE, "SH"))
        found = await entries(provisioned, codec, report.caseId,
                              lambda f: bool(f) and all(d.state is ChiefDutyState.DISCHARGED
                                            for d in f[-1].duties))  # fmt: skip
        later = report.model_copy(update={"caseId": f"A610104B{run}"})
        await publish(provisioned, codec, "police", rescue.model_copy(update={
            "rescueId": f"RS-B-{run}", "caseId": later.caseId}))  # fmt: skip
        await worker_has_read(provisioned, "exchange.rescue")
        await publish(provisioned, codec, "police", later)
        [waited] = await entries(provisioned, codec, later.caseId, lambda f: len(f) >= 1)
    finally:
        if worker.poll() is None:
            stop_worker(worker)
    await asyncio.sleep(0)
    assert states(waited) == ("SOLVE:ASSIGNED", "RESCUE:DISCHARGED", "SETTLE:IN_PROGRESS")
    last = found[-1]
    assert states(last) == ("SOLVE:DISCHARGED", "RESCUE:DISCHARGED", "SETTLE:DISCHARGED")
    evidence = {d.duty.value: [(e.kind.value, e.ref) for e in d.evidence] for d in last.duties}
    assert evidence == {
        "SOLVE": [("TIP", tip.tipId), ("UNIT_RECORD", f"PA-{run}")],
        "RESCUE": [("TIP", tip.tipId), ("RESCUE", rescue.rescueId)],
        "SETTLE": [("RESCUE", rescue.rescueId), ("UNIT_RECORD", f"SH-{run}")],
    }
    assert (await quarantine_reasons(provisioned, "workflows")).get(poison) == "unsigned"
    assert any("[chief-duty-case]" in m for m in messages), messages
    assert any("[chief-duty-evidence]" in m and "RESCUE" in m for m in messages), messages
    assert any("[chief-duty-order]" in m and "SETTLE" in m for m in messages), messages
    # the rescue was published before the settlement record: nothing refused it afterwards
    assert len(messages) == 3
