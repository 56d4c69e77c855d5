"""Leads of a cold case against the real broker with a running worker: a tip naming the case,
a DNA comparison of one of its samples and a candidate kinship match linking it are appended to
its leads in the ledger (each once, though the match reaches two inboxes), across a restart;
a tip naming a case that is not cold adds nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exchange.codec import EventCodec
from exchange.examples.dna import example_dna_comparison_request
from exchange.examples.intake import example_public_tip
from exchange.models.cold_cases import ColdCase, ColdCaseLeadKind
from tests.workflows.test_cold_cases_broker import ledger
from tests.workflows.test_dna_broker import scenario
from tests.workflows.test_referrals_broker import collect, publish
from tests.workflows.test_worker_broker import start_worker, stop_worker

pytestmark = pytest.mark.broker


def kinds(case: ColdCase) -> list[tuple[str, str]]:
    return sorted((lead.kind.value, lead.ref) for lead in case.leads)


async def test_tips_and_dna_comparisons_are_leads_of_the_cold_case(
    provisioned: Any, codec: EventCodec
) -> None:
    run = uuid.uuid4().hex[:10].upper()
    report, mother, child, result = scenario(run)
    now = datetime.now(UTC)
    report = report.model_copy(update={  # missing for 91 days: cold at the first scan
        "lastSeenAt": now - timedelta(days=91), "publicAlert": False})  # fmt: skip
    tip = example_public_tip().model_copy(update={
        "tipId": f"TIP-{run}", "caseId": report.caseId, "receivedAt": now, "reportedAt": now})
    stray = tip.model_copy(update={"tipId": f"TIP-S-{run}", "caseId": f"A610104{run}X"})
    request = example_dna_comparison_request().model_copy(update={
        "requestId": f"DNA-R-{run}", "sampleId": mother.sampleId, "caseId": report.caseId,
        "requestedAt": now})  # fmt: skip
    worker = start_worker(provisioned)
    try:
        await publish(provisioned, codec, "police", report)
        await ledger(provisioned, codec, report.caseId, until=lambda f: len(f) >= 1)
        await publish(provisioned, codec, tip.receivedBy.agencyId, stray, tip)
        await ledger(provisioned, codec, report.caseId,
                     until=lambda f: any(c.leads for c in f))
        stop_worker(worker)
        worker = start_worker(provisioned)
        await publish(provisioned, codec, "police", mother, request)
        await publish(provisioned, codec, "railway-police", child)
        await publish(provisioned, codec, "police", result)
        want = sorted([
            ("DNA_COMPARISON", f"{result.resultId}:OPEN"), ("DNA_COMPARISON", request.requestId),
            ("TIP", tip.tipId),
        ])
        entries = await ledger(provisioned, codec, report.caseId,
                               until=lambda f: bool(f) and kinds(f[-1]) == want)
        assert kinds(entries[-1]) == want, kinds(entries[-1])
        await asyncio.sleep(3)  # the match's second inbox is read too: no second lead
        # read as the police: a lead's summary is sealed (identity, minor) for the
        # joint-meeting office, which reads the ledger by default
        again = await ledger(provisioned, codec, report.caseId,
                             until=lambda f: len(f) >= len(entries), reader="police")
        assert kinds(again[-1]) == want
        match = next(lead for lead in again[-1].leads if lead.ref.endswith(":OPEN"))
        assert match.kind is ColdCaseLeadKind.DNA_COMPARISON
        assert child.caseId in match.summary
        stray_entries = await collect(
            provisioned, codec, "exchange.cold-case", "joint-meeting-office",
            lambda e: isinstance(e, ColdCase) and e.caseId == stray.caseId,
            until=bool, timeout_s=5,
        )
        assert stray_entries == []
    finally:
        stop_worker(worker)
    await asyncio.sleep(0)
