"""The main job's fifth act: a child of unknown origin reported by a school, sampled, matched to
a cold case, the alert cancelled, the referral plan started (Art. 6, 8, 9).

A worker runs on a clock compressed x8640 (a day lasts 10 s). A boy went missing in Lianhu ten
months ago; his case has been open long past the ledger's three months, so it is a cold case
(积案) with its chief. A primary school in Yanta reports, at enrolment, a boy with no household
registration and no birth record; the workflows send the report to the Yanta police, who check
it and take his DNA sample; the laboratory (through its connector, here published as it would)
finds a candidate kinship match with the missing boy's mother. The match reaches both police
units and is appended to the cold case's leads; Lianhu confirms it: the missing-person case is
closed as FOUND (its public alert cancelled) and the found boy's referral plan starts where he
was found: civil affairs, health, education. Only ids, units, rules and reasons are printed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from exchange.demo.act import Act, KafkaAs
from exchange.demo.keys import DemoKeys
from exchange.examples.children import example_unknown_origin_check, example_unknown_origin_child
from exchange.examples.core import example_missing_person_report
from exchange.examples.dna import (
    example_dna_comparison_request,
    example_dna_comparison_result,
    example_dna_sample,
)
from exchange.models.cold_cases import ColdCase
from exchange.models.common import AgencyRef
from exchange.models.dna import (
    DnaSampleCollected,
    DnaSampleKind,
    KinshipVerification,
    KinshipVerificationDecision,
    KinshipVerificationStatus,
)
from exchange.models.missing_persons import (
    AlertMessageType,
    EmergencyAlert,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.models.referrals import ReferralState, Rescue
from exchange.models.unknown_origin import UnknownOriginDispatch
from exchange.rules.public_alert import public_reference
from exchange.topology.model import Topology

TIME_SCALE = 8640
LIANHU = AgencyRef(agencyId="police", unitId="police.lianhu")
WATCH = (
    ("police", "exchange.unknown-origin.to.police"),
    ("police", "exchange.dna-match.to.police"),
    ("police", "exchange.cold-case"),
    ("transport", "exchange.missing-person"),
    ("civil-affairs", "exchange.rescue"),
    ("joint-meeting-office", "exchange.referral-board"),
    ("transport", "exchange.alert.to.transport"),
)


class _Act(Act):
    name = "demo-found-child"

    def __init__(self, topology: Topology, kafka_as: KafkaAs, keys: DemoKeys) -> None:
        super().__init__(topology, kafka_as, keys)
        self.seen: dict[str, BaseModel] = {}
        self.leads = 0
        self.referrals: set[str] = set()
        self.reference = public_reference(f"A610104F{self.run}")  # the missing boy's alert

    def mine(self, *ids: str | None) -> bool:
        return any(self.run in (i or "") for i in ids)

    async def on_event(self, agency: str, event: BaseModel) -> None:
        if isinstance(event, UnknownOriginDispatch) and self.mine(event.reportId):
            self.seen["dispatch"] = event
            self.say(f"{event.target.unitId} <- child of unknown origin {event.reportId}, check "
                     f"due {event.checkDueAt:%Y-%m-%d}, DNA sample requested: "
                     f"{event.dnaSampleRequested} ({event.rule}: {event.reason})")
        elif isinstance(event, ColdCase) and self.mine(event.caseId):
            if "cold" not in self.seen:
                self.say(f"cold case {event.caseId} in the ledger, answerable: {event.chief}")
            self.seen["cold"] = event
            for lead in event.leads[self.leads:]:
                self.say(f"ledger {event.caseId}: lead {lead.kind}: {lead.summary}")
            self.leads = len(event.leads)
        elif isinstance(event, KinshipVerification) and self.mine(event.verificationId):
            self.seen[f"verification:{event.status}"] = event
            self.say(f"police <- kinship match {event.verificationId} {event.status} linking "
                     f"{event.caseId} and {event.matchedCaseId} (LR {event.likelihoodRatio:.2g})")
        elif isinstance(event, MissingPersonReport) and self.mine(event.caseId):
            if event.status is MissingPersonStatus.FOUND:
                self.seen["found"] = event
                self.say(f"missing-person case {event.caseId} closed: FOUND")
        elif isinstance(event, EmergencyAlert) and event.reference == self.reference:
            if event.msgType is AlertMessageType.CANCEL:
                self.seen["cancel"] = event
                self.say(f"public alert {event.reference} CANCELLED")
        elif isinstance(event, Rescue) and self.mine(event.caseId):
            self.seen["rescue"] = event
            self.say(f"rescue {event.rescueId} where he was found ({event.place.regionCode}), "
                     f"by {event.rescuingUnit.unitId}")
        elif (isinstance(event, ReferralState) and self.mine(event.caseId)
              and event.referralId not in self.referrals):  # fmt: skip
            self.referrals.add(event.referralId)
            self.say(f"{event.toAgency.unitId or event.toAgency.agencyId} <- referral "
                     f"{event.purpose}: {event.decision}")


async def play(topology: Topology, kafka_as: KafkaAs, keys: DemoKeys, state_dir: Path) -> int:
    print(f"\n-- 5. A child of unknown origin found to be a missing child (a worker on a clock "
          f"x{TIME_SCALE}: a day lasts 10 s) --")
    act = _Act(topology, kafka_as, keys)
    await act.perform(lambda: _scenario(act), WATCH, state_dir, TIME_SCALE)
    done = all(k in act.seen for k in ("cold", "found", "rescue")) and len(act.referrals) >= 3
    return 0 if done else 1


async def _scenario(act: _Act) -> None:
    run, now = act.run, datetime.now(UTC)
    report = example_missing_person_report().model_copy(update={
        "caseId": f"A610104F{run}", "lastSeenAt": now - timedelta(days=300),
        "reportedAt": now, "reportingUnit": LIANHU, "publicAlert": True,
    })  # fmt: skip
    mother = DnaSampleCollected(
        sampleId=f"DNA-M-{run}", kind=DnaSampleKind.MISSING_CHILD_RELATIVE,
        caseId=report.caseId, caseOwner=LIANHU, relationship="MOTHER", collectedBy=LIANHU,
        collectedAt=now,
    )  # fmt: skip
    act.say(f"Lianhu police: boy missing since {report.lastSeenAt:%Y-%m-%d} (case "
            f"{report.caseId}), his mother's DNA sample in the city database")
    await act.publish("police", report)
    await act.publish("police", mother)
    await act.wait_until(lambda: "cold" in act.seen, timeout_s=120)  # the worker starts

    child = example_unknown_origin_child().model_copy(update={
        "reportId": f"UOC-F{run}", "observedAt": now, "reportedAt": now})  # fmt: skip
    act.say(f"a primary school in Yanta reports at enrolment a boy with no household "
            f"registration and no birth record ({child.reportId})")
    await act.publish("education", child)
    if not await act.wait_until(lambda: "dispatch" in act.seen):
        return
    unit = act.seen["dispatch"].target  # type: ignore[attr-defined]
    sample = example_dna_sample().model_copy(update={
        "sampleId": f"DNA-C-{run}", "caseId": child.reportId, "caseOwner": unit,
        "collectedBy": unit, "collectedAt": now})  # fmt: skip
    check = example_unknown_origin_check().model_copy(update={
        "reportId": child.reportId, "unit": unit, "dnaSampleId": sample.sampleId,
        "checkedAt": now})  # fmt: skip
    request = example_dna_comparison_request().model_copy(update={
        "requestId": f"DNA-R-{run}", "sampleId": sample.sampleId, "caseId": child.reportId,
        "requestedBy": unit, "requestedAt": now})  # fmt: skip
    act.say(f"{unit.unitId} checks him, takes his DNA sample and asks for a comparison")
    for event in (check, sample, request):
        await act.publish(unit.agencyId, event)
    result = example_dna_comparison_result().model_copy(update={
        "resultId": f"DNA-X-{run}", "requestId": request.requestId,
        "sampleId": sample.sampleId, "matchedSampleId": mother.sampleId,
        "reportedAt": datetime.now(UTC)})  # fmt: skip
    act.say("the DNA laboratory reports a candidate kinship match with the mother "
            "(its connector publishes the result)")
    await act.publish("police", result)
    if not await act.wait_until(lambda: f"verification:{KinshipVerificationStatus.OPEN}"
                                in act.seen):
        return
    act.say("Lianhu police verify the match and confirm it")
    await act.publish("police", KinshipVerificationDecision(
        verificationId=result.resultId, confirmed=True, decidedBy=LIANHU,
        note="second sample and the family's account agree", decidedAt=datetime.now(UTC)))
    await act.wait_until(lambda: "rescue" in act.seen and len(act.referrals) >= 3)
    await act.wait_until(lambda: "cancel" in act.seen, timeout_s=20)
