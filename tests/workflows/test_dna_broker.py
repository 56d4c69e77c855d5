"""The DNA hand-off against the real broker with a running worker: a candidate kinship match
reaches the police units owning both cases (a result naming a sample not yet known waits and
opens nothing), an outsider's decision and a poison record are dead-lettered; the confirmed
match closes the missing-person case and its public alert is cancelled; a result read before
its samples waits for them; an undecided verification escalates once, after a restart."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.protection import send_signed

from exchange.codec import EventCodec
from exchange.examples.core import example_missing_person_report
from exchange.examples.dna import (
    example_dna_comparison_result,
    example_dna_sample,
    example_kinship_verification_decision,
)
from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert
from exchange.models.dna import (
    DnaComparisonResult,
    DnaSampleCollected,
    DnaSampleKind,
    KinshipVerification,
    KinshipVerificationStatus,
)
from exchange.models.missing_persons import MissingPersonReport, MissingPersonStatus
from exchange.rules.public_alert import public_reference
from tests.workflows.test_referrals_broker import collect, publish
from tests.workflows.test_worker_broker import alerts_for, start_worker, stop_worker

pytestmark = pytest.mark.broker

LIANHU = AgencyRef(agencyId="police", unitId="police.lianhu")
STATION = AgencyRef(agencyId="railway-police", unitId="railway-police.xian-station")


def scenario(run: str) -> tuple[MissingPersonReport, DnaSampleCollected, DnaSampleCollected,
                                DnaComparisonResult]:
    """A child missing (case of police.lianhu), the mother's sample, a child's sample taken by
    the railway police, and the laboratory's candidate match between the two."""
    now = datetime.now(UTC)
    report = example_missing_person_report().model_copy(update={
        "caseId": f"A610104{run}", "lastSeenAt": now - timedelta(minutes=20), "reportedAt": now,
        "reportingUnit": LIANHU,
    })  # fmt: skip
    mother = DnaSampleCollected(
        sampleId=f"DNA-M-{run}", kind=DnaSampleKind.MISSING_CHILD_RELATIVE,
        caseId=report.caseId, caseOwner=LIANHU, relationship="MOTHER", collectedBy=LIANHU,
        collectedAt=now,
    )  # fmt: skip
    child = example_dna_sample().model_copy(update={
        "sampleId": f"DNA-C-{run}", "caseId": f"UOC-{run}", "caseOwner": STATION,
        "collectedBy": STATION, "collectedAt": now,
    })  # fmt: skip
    result = example_dna_comparison_result().model_copy(update={
        "resultId": f"DNA-X-{run}", "sampleId": child.sampleId,
        "matchedSampleId": mother.sampleId, "reportedAt": now,
    })  # fmt: skip
    return report, mother, child, result


async def verifications(provisioned: Any, codec: EventCodec, agency: str, ident: str,
                        want: KinshipVerificationStatus) -> list[KinshipVerification]:
    return await collect(
        provisioned, codec, f"exchange.dna-match.to.{agency}", agency,
        lambda e: isinstance(e, KinshipVerification) and e.verificationId == ident,
        until=lambda f: any(v.status is want for v in f),
    )


async def test_a_confirmed_match_closes_the_case_and_cancels_its_alert(
    provisioned: Any, codec: EventCodec
) -> None:
    run = uuid.uuid4().hex[:10].upper()
    report, mother, child, result = scenario(run)
    reference = public_reference(report.caseId)
    worker = start_worker(provisioned)
    try:
        await publish(provisioned, codec, "police", report, mother)
        assert [a.msgType.value for a in await alerts_for(
            provisioned, codec, reference, until_cancel=False, enough=1)] == ["ALERT"]
        await publish(provisioned, codec, "railway-police", child)
        await send_signed(provisioned, "police", "exchange.dna-result", b"not an event",
                          key=f"P-{run}".encode())
        stranger = result.model_copy(update={
            "resultId": f"DNA-Y-{run}", "matchedSampleId": f"DNA-NONE-{run}"})  # fmt: skip
        await publish(provisioned, codec, "police", stranger, result)
        for agency in ("police", "railway-police"):  # the owners of both cases
            [opened] = await verifications(
                provisioned, codec, agency, result.resultId, KinshipVerificationStatus.OPEN)
            assert (opened.caseId, opened.matchedCaseId) == (child.caseId, report.caseId)
            assert (opened.caseOwner, opened.matchedCaseOwner) == (STATION, LIANHU)
        decision = example_kinship_verification_decision().model_copy(update={
            "verificationId": result.resultId, "decidedAt": datetime.now(UTC)})  # fmt: skip
        metro = AgencyRef(agencyId="metro-police")
        await publish(provisioned, codec, "metro-police", decision.model_copy(update={
            "decidedBy": metro, "confirmed": False}))  # fmt: skip
        await publish(provisioned, codec, "police", decision)
        states = await verifications(
            provisioned, codec, "railway-police", result.resultId,
            KinshipVerificationStatus.CONFIRMED,
        )
        assert [v.status.value for v in states] == ["OPEN", "CONFIRMED"]  # not REJECTED
        assert states[-1].decidedBy == LIANHU
        closed = await collect(
            provisioned, codec, "exchange.missing-person", "transport",
            lambda e: isinstance(e, MissingPersonReport) and e.caseId == report.caseId,
            until=lambda f: any(r.status is MissingPersonStatus.FOUND for r in f),
        )
        assert closed[-1].status is MissingPersonStatus.FOUND
        assert result.resultId in closed[-1].circumstances
        everything = await alerts_for(provisioned, codec, reference, until_cancel=True)
        assert everything[-1].msgType.value == "CANCEL"
        dead = await collect(
            provisioned, codec, "exchange.deadletter.workflows", None,
            lambda r: run.encode() in (r.key or b"") and dict(r.headers).get(
                "exchange.original.topic") in {b"exchange.dna-result",
                                               b"exchange.dna-verification"},
            until=lambda f: len(f) >= 2,
        )
        messages = sorted(
            dict(r.headers).get("exchange.error.message", b"").decode() for r in dead)
        reasons = {dict(r.headers)["exchange.error.reason"].decode() for r in dead}
        assert "not-single-object" in reasons, reasons
        assert len(dead) == 2, messages  # the result naming an unknown sample waits for it
        assert any("metro-police owns neither case" in m for m in messages)
    finally:
        stop_worker(worker)
    await asyncio.sleep(0)


async def test_an_undecided_verification_escalates_once_after_a_restart(
    provisioned: Any, codec: EventCodec
) -> None:
    """With --time-scale 8640 the 72 h of verification last 30 s. The laboratory's result is
    published before the samples it names: it waits for them, then opens the verification."""
    run = uuid.uuid4().hex[:10].upper()
    report, mother, child, result = scenario(run)
    worker = start_worker(provisioned, "--time-scale", "8640")
    try:
        await publish(provisioned, codec, "police", result)  # before the samples: it waits
        await publish(provisioned, codec, "police", report.model_copy(
            update={"publicAlert": False}), mother)
        await publish(provisioned, codec, "railway-police", child)
        [opened] = await verifications(
            provisioned, codec, "police", result.resultId, KinshipVerificationStatus.OPEN)
        stop_worker(worker)
        restarted = datetime.now(UTC)
        assert restarted < opened.verifyDueAt
        worker = start_worker(provisioned, "--time-scale", "8640")
        for agency, wait in (("joint-meeting-office", 90), ("railway-police", 8)):
            alerts = await collect(
                provisioned, codec, f"exchange.compliance.to.{agency}", agency,
                lambda e: isinstance(e, ComplianceAlert) and e.subject == result.resultId,
                until=lambda f, first=wait > 8: first and len(f) >= 1, timeout_s=wait,
            )
            assert len(alerts) == 1, agency
            assert alerts[0].kind.value == "DNA_VERIFICATION_OVERDUE"
            assert alerts[0].raisedAt > restarted
    finally:
        if worker.poll() is None:
            stop_worker(worker)
    await asyncio.sleep(0)
