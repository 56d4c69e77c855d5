"""A child of unknown origin, reported by a school, found by a confirmed kinship match to a
missing-child case: the DNA workflow starts the rescue's referral plan where the child is found
(a Rescue on exchange.rescue), and the referral workflow refers the child to civil affairs,
health and education by topology/referral_rules.toml. Against the real broker, with a worker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from exchange.codec import EventCodec
from exchange.examples.children import example_unknown_origin_child
from exchange.examples.dna import example_kinship_verification_decision
from exchange.models.dna import KinshipVerificationStatus
from exchange.models.referrals import ReferralState, Rescue
from tests.workflows.test_dna_broker import scenario, verifications
from tests.workflows.test_referrals_broker import collect, publish
from tests.workflows.test_worker_broker import start_worker, stop_worker

pytestmark = pytest.mark.broker


@pytest.mark.parametrize("report_read_late", [False, True], ids=["in-order", "report-late"])
async def test_a_confirmed_match_starts_the_found_childs_referral_plan(
    provisioned: Any, codec: EventCodec, report_read_late: bool
) -> None:
    """With ``report_read_late``, the found child's report is published only after the match
    is confirmed (topics are read in no set order after downtime): the rescue waits for it."""
    run = uuid.uuid4().hex[:10].upper()
    report, mother, child, result = scenario(run)
    found = example_unknown_origin_child().model_copy(update={
        "reportId": child.caseId, "reportedAt": datetime.now(UTC)})  # fmt: skip
    worker = start_worker(provisioned)
    try:
        if not report_read_late:
            await publish(provisioned, codec, "education", found)
        await publish(provisioned, codec, "police", report, mother)
        await publish(provisioned, codec, "railway-police", child)
        await publish(provisioned, codec, "police", result)
        await verifications(provisioned, codec, "police", result.resultId,
                            KinshipVerificationStatus.OPEN)
        decision = example_kinship_verification_decision().model_copy(update={
            "verificationId": result.resultId, "decidedAt": datetime.now(UTC)})  # fmt: skip
        await publish(provisioned, codec, "police", decision)
        if report_read_late:
            await asyncio.sleep(2)  # the decision handled before the report exists
            await publish(provisioned, codec, "education", found)
        [rescue] = await collect(
            provisioned, codec, "exchange.rescue", "civil-affairs",
            lambda e: isinstance(e, Rescue) and e.caseId == report.caseId,
            until=lambda f: len(f) >= 1,
        )
        assert rescue.place == found.location  # where the child was found, not where lost
        assert rescue.rescuingUnit == child.caseOwner
        assert rescue.victims[0].person == report.missingPerson
        assert result.resultId in (rescue.notes or "")
        wanted = {"TEMPORARY_ASSISTANCE", "RETURN_HOME", "PSYCHOLOGICAL_CARE", "SCHOOL_ENROLMENT"}
        states = await collect(
            provisioned, codec, "exchange.referral-board", "joint-meeting-office",
            lambda e: isinstance(e, ReferralState) and e.caseId == report.caseId,
            until=lambda f: wanted <= {s.purpose.value for s in f},
        )
        plan = {(s.purpose.value, s.toAgency.agencyId) for s in states}
        assert plan >= {
            ("TEMPORARY_ASSISTANCE", "civil-affairs"), ("RETURN_HOME", "civil-affairs"),
            ("PSYCHOLOGICAL_CARE", "health"), ("SCHOOL_ENROLMENT", "education"),
        }, plan
        assert all(s.rescueId == rescue.rescueId for s in states)
    finally:
        stop_worker(worker)
    await asyncio.sleep(0)
