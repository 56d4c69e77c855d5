"""The cold-case ledger against the real broker with a running worker: an open missing-minor
case enters the ledger after a restart (its timer in the worker's table), a review by its unit
moves the next review, a poison record (unsigned) is quarantined and bad reviews are
dead-lettered, the next review missed escalates once, and ``exchange cases cold`` shows it
first."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from support.protection import quarantine_reasons

from exchange.codec import EventCodec
from exchange.examples.core import example_missing_person_report
from exchange.models.cold_cases import ColdCase, ColdCaseReview
from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert
from tests.cli.test_cli import run_cli
from tests.workflows.test_flows_broker import worker_has_read
from tests.workflows.test_referrals_broker import collect, publish
from tests.workflows.test_worker_broker import start_worker, stop_worker

pytestmark = pytest.mark.broker

SCALE = "259200"  # 90 days (the ledger's threshold) last 30 s, 30 days (reviews) 10 s
LIANHU = AgencyRef(agencyId="police", unitId="police.lianhu")


async def ledger(provisioned: Any, codec: EventCodec, case_id: str,
                 until: Any, reader: str = "joint-meeting-office") -> list[ColdCase]:
    return await collect(
        provisioned, codec, "exchange.cold-case", reader,
        lambda e: isinstance(e, ColdCase) and e.caseId == case_id, until=until,
    )


async def dead_letters(provisioned: Any, codec: EventCodec, run: str, want: int) -> list[Any]:
    return await collect(
        provisioned, codec, "exchange.deadletter.workflows", None,
        lambda r: run.encode() in (r.key or b"") and dict(r.headers).get(
            "exchange.original.topic") == b"exchange.cold-case-review",
        until=lambda f: len(f) >= want,
    )


async def test_a_cold_case_enters_is_reviewed_and_a_missed_review_escalates(
    provisioned: Any, codec: EventCodec
) -> None:
    run = uuid.uuid4().hex[:10].upper()
    now = datetime.now(UTC)
    report = example_missing_person_report().model_copy(update={
        "caseId": f"A610104{run}", "lastSeenAt": now, "reportedAt": now,  # cold in 30 s
        "reportingUnit": LIANHU, "publicAlert": False,
    })  # fmt: skip
    worker = start_worker(provisioned, "--time-scale", SCALE)
    try:
        raw = AIOKafkaProducer(**provisioned.kafka_as("police").aiokafka_kwargs())
        await raw.start()
        try:
            sent = await raw.send_and_wait(
                "exchange.cold-case-review", b"not an event", key=f"P-{run}".encode())
        finally:
            await raw.stop()
        await publish(provisioned, codec, "police", ColdCaseReview(
            caseId=f"A-NONE-{run}", reviewedBy=LIANHU, summary="?", reviewedAt=now))
        await dead_letters(provisioned, codec, run, 1)  # the worker is up and reading
        now = datetime.now(UTC)  # the 30 s start now, not while the worker was starting
        report = report.model_copy(update={"lastSeenAt": now, "reportedAt": now})
        await publish(provisioned, codec, "police", report)
        await worker_has_read(provisioned, "exchange.missing-person")
        stop_worker(worker)
        restarted = datetime.now(UTC)
        worker = start_worker(provisioned, "--time-scale", SCALE)
        [entered] = await ledger(provisioned, codec, report.caseId, lambda f: len(f) >= 1)
        assert entered.enteredAt > restarted
        assert entered.unit == LIANHU
        assert "police.lianhu" in entered.chief
        review = ColdCaseReview(caseId=report.caseId, reviewedBy=LIANHU, summary="files read",
                                reviewedAt=datetime.now(UTC))
        await publish(provisioned, codec, "metro-police", review.model_copy(
            update={"reviewedBy": AgencyRef(agencyId="metro-police")}))
        await publish(provisioned, codec, "police", review)
        alerts = await collect(
            provisioned, codec, "exchange.compliance.to.joint-meeting-office",
            "joint-meeting-office",
            lambda e: isinstance(e, ComplianceAlert) and e.subject == report.caseId,
            until=lambda f: len(f) >= 1,
        )
        assert [a.kind.value for a in alerts] == ["COLD_CASE_REVIEW_OVERDUE"]
        entries = await ledger(provisioned, codec, report.caseId,
                               lambda f: any(c.reviewOverdue for c in f))
        assert [(c.reviews, c.reviewOverdue) for c in entries] == [
            (0, False), (1, False), (1, True)]
        assert alerts[0].reason.startswith("cold case of police.lianhu not reviewed by "
                                           f"{entries[1].nextReviewDue.isoformat()}")
        dead = await dead_letters(provisioned, codec, run, 2)
        messages = [dict(r.headers).get("exchange.error.message", b"").decode() for r in dead]
        reasons = {dict(r.headers)["exchange.error.reason"].decode() for r in dead}
        assert reasons == {"handler-error"}
        poison = ("exchange.cold-case-review", sent.partition, sent.offset)
        assert (await quarantine_reasons(provisioned, "workflows")).get(poison) == "unsigned"
        assert any("[cold-case-known]" in m for m in messages)
        assert any("[cold-case-unit]" in m and "metro-police" in m for m in messages)
    finally:
        if worker.poll() is None:
            stop_worker(worker)
    await asyncio.sleep(0)
    cli_shows_the_overdue_case_first(provisioned, report.caseId)


def cli_shows_the_overdue_case_first(provisioned: Any, case_id: str) -> None:
    env = {
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent),
    }
    shown = run_cli("cases", "cold", "--unit", "police.lianhu", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    cases = json.loads(shown.stdout)
    assert cases[0]["overdue"]  # overdue first
    [mine] = [c for c in cases if c["caseId"] == case_id]
    assert mine["reviews"] == 1
    assert mine["leadsSinceReview"] == []
    text = run_cli("cases", "cold", env=env)
    assert text.returncode == 0, text.stderr
    assert f"OVERDUE {case_id}  police.lianhu" in text.stdout
