"""The main job's fourth act: a rescue referred to every agency that must help, the referrals
progressing, one falling overdue, an intermediary revoked and named again; then the board.

A worker runs on a clock compressed x8640 (a day lasts 10 s). Chang'an police rescue two
people: a woman going home to Guizhou and a 17-year-old from Yanta who cannot go home. The
referral rules refer each to the agencies that must help, each referral with its reason; the
agencies accept, work on, complete, decline or leave them; the one left open past its due time
escalates to the joint-meeting office. Market regulation revokes a job agency, and human
resources records a placement through it: market regulation and police are alerted. The act
ends with the referral board, read from the bus as ``exchange referrals`` does. Only ids,
agencies, purposes, rules and reasons are printed, never names or documents.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from exchange.client.snapshot import read_snapshot
from exchange.demo.act import Act, KafkaAs
from exchange.demo.keys import DemoKeys
from exchange.examples.core import example_intermediary_revocation, example_rescue
from exchange.examples.intake import example_job_placement
from exchange.models.common import AgencyRef, Gender, Person, PersonDescription
from exchange.models.compliance import ComplianceAlert
from exchange.models.intermediaries import IntermediaryAction
from exchange.models.referrals import (
    ReferralPurpose,
    ReferralState,
    ReferralStatus,
    ReferralUpdate,
    RescuedVictim,
    VictimNeeds,
    VictimSituation,
)
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.rules.referral_board import build_board, render
from exchange.rules.referral_rules import load_referral_rules, plan_referrals
from exchange.topology.model import Topology

TIME_SCALE = 8640
BOARD = "exchange.referral-board"
WATCH = (
    ("joint-meeting-office", BOARD),
    ("joint-meeting-office", "exchange.compliance.to.joint-meeting-office"),
    ("market-regulation", "exchange.compliance.to.market-regulation"),
)
S = ReferralStatus


class _Act(Act):
    name = "demo-referrals"

    def __init__(self, topology: Topology, kafka_as: KafkaAs, keys: DemoKeys) -> None:
        super().__init__(topology, kafka_as, keys)
        self.states: dict[str, ReferralState] = {}
        self.alerts: list[ComplianceAlert] = []

    async def on_event(self, agency: str, event: BaseModel) -> None:
        if isinstance(event, ReferralState) and self.run in event.caseId:
            before = self.states.get(event.referralId)
            self.states[event.referralId] = event
            who = event.toAgency.unitId or event.toAgency.agencyId
            if before is None:
                self.say(f"{who} <- referral {event.purpose} (person {event.personIndex + 1}, "
                         f"due in {(event.dueAt - event.issuedAt).total_seconds():.0f}s): "
                         f"{event.decision}")
            elif event.escalated and not before.escalated:
                self.say(f"referral {event.referralId} is OVERDUE: escalated")
            elif event.status is not before.status:
                why = f" ({event.statusReason})" if event.statusReason else ""
                self.say(f"{who}: {event.purpose} {before.status} -> {event.status}{why}")
        elif isinstance(event, ComplianceAlert) and self.run in (event.caseId or event.subject
                                                                  + event.reason):
            self.alerts.append(event)
            self.say(f"{agency} <- compliance alert {event.kind}: {event.reason}")

    def referral(self, agency: str, purpose: ReferralPurpose, person: int) -> ReferralState:
        return next(s for s in self.states.values() if s.toAgency.agencyId == agency
                    and s.purpose is purpose and s.personIndex == person)

    async def step(self, state: ReferralState, *statuses: ReferralStatus,
                   reason: str | None = None) -> None:
        for status in statuses:
            await self.publish(state.toAgency.agencyId, ReferralUpdate(
                referralId=state.referralId, caseId=state.caseId, status=status,
                by=state.toAgency, reason=reason, updatedAt=datetime.now(UTC)))


async def play(topology: Topology, kafka_as: KafkaAs, keys: DemoKeys, state_dir: Path) -> int:
    print(f"\n-- 4. Rescue, referrals and revocation (a worker on a clock x{TIME_SCALE}: "
          "a day lasts 10 s) --")
    act = _Act(topology, kafka_as, keys)
    await act.perform(lambda: _scenario(act), WATCH, state_dir, TIME_SCALE)
    reader = "joint-meeting-office"
    snapshot = await read_snapshot(
        kafka_as(topology.principal_of(reader)), keys.codec, BOARD, agency=reader,
        partitions=topology.topic(BOARD).partitions,
        protection=keys.codec_for(reader),
    )
    states = [e.event for e in snapshot.events
              if isinstance(e.event, ReferralState) and act.run in e.event.caseId]
    print("\n  The referral board of this rescue (`exchange referrals` shows all):")
    names = {a.id: a.name_zh for a in topology.agencies}
    board = render(build_board(states, datetime.now(UTC)), names=names)
    print("\n".join(f"    {line}" for line in board.splitlines()))
    return 0


async def _scenario(act: _Act) -> None:
    rescue = example_rescue()
    boy = RescuedVictim(
        person=Person(isMinor=True, description=PersonDescription(ageYears=17,
                      gender=Gender.MALE), nationality="CHN", homeRegionCode="610113"),
        situation=VictimSituation.FORCED_LABOUR,
        needs=VictimNeeds(canReturnHome=False, wantsToReturnHome=True, medicalCare=True),
    )
    now = datetime.now(UTC)
    rescue = rescue.model_copy(update={
        "rescueId": f"R-DEMO-{act.run}", "caseId": f"A610116D{act.run}",
        "victims": (*rescue.victims, boy), "rescuedAt": now - timedelta(hours=2),
        "reportedAt": now,
    })
    act.say("Chang'an police rescue a woman held for a forced marriage and a 17-year-old "
            "boy held for forced labour")
    await act.publish("police", rescue)
    planned = plan_referrals(rescue, load_referral_rules(), load_jurisdiction())
    await act.wait_until(  # a new worker's start-up (its tables) may take a minute or more
        lambda: len(act.states) >= sum(len(p.referrals) for p in planned), timeout_s=150
    )
    medical = act.referral("health", ReferralPurpose.MEDICAL_CARE, 0)
    training = act.referral("human-resources", ReferralPurpose.JOB_TRAINING, 1)
    legal = act.referral("justice", ReferralPurpose.LEGAL_AID, 0)
    shelter = act.referral("civil-affairs", ReferralPurpose.TEMPORARY_ASSISTANCE, 0)
    await act.step(medical, S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED)
    await act.step(training, S.ACCEPTED, S.IN_PROGRESS)
    await act.step(legal, S.DECLINED, reason="she has already instructed a lawyer")
    await act.step(shelter, S.ACCEPTED)
    act.say("civil affairs accepts the shelter referral but does not report it done")
    await act.wait_until(lambda: act.states[shelter.referralId].escalated, timeout_s=40)

    code = "91610104MA7B3CRQ1H"
    act.say(f"market regulation revokes job agency {code}")
    await act.publish("market-regulation", example_intermediary_revocation().model_copy(update={
        "decisionNumber": f"DEMO-{act.run}", "action": IntermediaryAction.REVOKED,
        "effectiveDate": now.date() - timedelta(days=1)}))
    await asyncio.sleep(2)
    act.say("human resources records a placement of three workers through it")
    await act.publish("human-resources", example_job_placement().model_copy(update={
        "placementId": f"PL-DEMO-{act.run}", "placedAt": now, "reportedAt": now,
        "recordingUnit": AgencyRef(agencyId="human-resources")}))
    await act.wait_until(lambda: any(a.kind == "REVOKED_INTERMEDIARY_NAMED" for a in act.alerts))
