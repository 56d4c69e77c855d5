"""Revocations, abandoned infants and public tips against the real broker with a running
worker: a revocation delivered and a later event naming the intermediary alerted (and not after
a reinstatement), a referral naming it alerted (whichever is read first), the DNA rule, a tip
routed and rewarded."""

from __future__ import annotations

import asyncio
import random
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from exchange.codec import EventCodec
from exchange.examples.core import example_intermediary_revocation
from exchange.examples.intake import (
    example_infant_custody,
    example_job_placement,
    example_public_tip,
)
from exchange.models.common import AgencyRef, Location, TransportFacility, TransportFacilityKind
from exchange.models.compliance import ComplianceAlert
from exchange.models.identifiers import social_credit_check_char
from exchange.models.infants import InfantCustodyEvent, InfantCustodyStep
from exchange.models.intermediaries import IntermediaryAction, IntermediaryRevocation, JobPlacement
from exchange.models.referrals import Referral, ReferralState
from exchange.models.tips import RewardEligibility, TipDispatch, TipOutcome
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.rules.referral_rules import load_referral_rules, plan_referrals
from exchange.workflows.compliance import short_id
from tests.workflows.referral_people import WOMAN_GOING_HOME
from tests.workflows.test_referrals_broker import board, collect, new_rescue, publish
from tests.workflows.test_worker_broker import start_worker, stop_worker

pytestmark = pytest.mark.broker


@pytest.fixture(scope="module")
def worker(provisioned: Any) -> Iterator[subprocess.Popen[bytes]]:
    process = start_worker(provisioned)
    try:
        yield process
    finally:
        stop_worker(process)


def new_code() -> str:
    """A fresh, valid GB 32100 unified social credit code."""
    body = "91610104" + "".join(random.choices("0123456789ABCDEFGHJKLMNPQRTUWXY", k=9))
    return body + social_credit_check_char(body)


async def worker_has_read(provisioned: Any, topic: str, timeout_s: float = 60) -> None:
    """Wait until the worker (group ``workflows.main``) has committed the current end of
    ``topic``: it has handled everything published there so far. Events of different topics
    come in no set order, and a fixed sleep was too short under the full suite's load."""
    settings = provisioned.broker.admin.aiokafka_kwargs()
    partitions = [
        TopicPartition(topic, p) for p in range(provisioned.topology.topic(topic).partitions)
    ]
    consumer = AIOKafkaConsumer(**settings)
    admin = AIOKafkaAdminClient(**settings)
    await consumer.start()
    await admin.start()
    try:
        ends = await consumer.end_offsets(partitions)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            committed = await admin.list_consumer_group_offsets(
                "workflows.main", partitions=partitions
            )
            behind = [tp for tp in partitions if ends[tp] > 0 and (
                tp not in committed or committed[tp].offset < ends[tp])]  # fmt: skip
            if not behind:
                return
            assert asyncio.get_running_loop().time() < deadline, f"worker behind on {behind}"
            await asyncio.sleep(0.3)
    finally:
        await admin.close()
        await consumer.stop()


def alerts_about(subject: str, alerts: list[ComplianceAlert]) -> list[ComplianceAlert]:
    return [a for a in alerts if a.subject == subject]


async def test_revocation_delivered_and_later_events_naming_it_alerted(
    provisioned: Any, codec: EventCodec, worker: subprocess.Popen[bytes]
) -> None:
    code, other = new_code(), new_code()
    today = datetime.now(UTC).date()
    revoked = example_intermediary_revocation().model_copy(update={
        "unifiedSocialCreditCode": code, "effectiveDate": today - timedelta(days=1),
    })
    await publish(provisioned, codec, "market-regulation", revoked)
    for agency in ("human-resources", "police", "cyberspace"):
        got = await collect(
            provisioned, codec, "exchange.intermediary-revocation", agency,
            lambda e: isinstance(e, IntermediaryRevocation) and e.unifiedSocialCreditCode == code,
            until=lambda f: len(f) >= 1,
        )
        assert got[0].action is IntermediaryAction.REVOKED, agency
    await worker_has_read(provisioned, "exchange.intermediary-revocation")  # before what follows

    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    placement = example_job_placement().model_copy(update={
        "placementId": f"PL-{run}", "intermediaryCode": code, "placedAt": now, "reportedAt": now,
    })
    JobPlacement.model_validate(placement.model_dump())  # the generated code is valid GB 32100
    clean = placement.model_copy(update={"placementId": f"PL-OK-{run}", "intermediaryCode": other})
    tip = example_public_tip().model_copy(update={
        "tipId": f"TIP-{run}", "intermediaryCode": code, "receivedAt": now, "reportedAt": now,
    })
    await publish(provisioned, codec, "human-resources", placement, clean)
    await publish(provisioned, codec, "joint-meeting-office", tip)
    for agency in ("market-regulation", "police"):
        alerts = await collect(
            provisioned, codec, f"exchange.compliance.to.{agency}", agency,
            lambda e: isinstance(e, ComplianceAlert) and e.subject in {code, other},
            until=lambda f: len(f) >= 2,
        )
        mine = alerts_about(code, alerts)
        assert sorted(a.alertId for a in mine) == sorted([f"{code}:PL-{run}", f"{code}:TIP-{run}"])
        assert all(a.kind.value == "REVOKED_INTERMEDIARY_NAMED" for a in mine)
        assert any(f"job placement PL-{run} names intermediary {code}, revoked" in a.reason
                   for a in mine)
        assert not alerts_about(other, alerts)

    # Reinstated: a later placement through it raises nothing.
    reinstated = revoked.model_copy(update={
        "action": IntermediaryAction.REINSTATED, "decisionNumber": f"R-{run}",
    })
    await publish(provisioned, codec, "market-regulation", reinstated)
    await worker_has_read(provisioned, "exchange.intermediary-revocation")
    again = placement.model_copy(update={"placementId": f"PL-AGAIN-{run}"})
    await publish(provisioned, codec, "human-resources", again)
    later = await collect(
        provisioned, codec, "exchange.compliance.to.market-regulation", "market-regulation",
        lambda e: isinstance(e, ComplianceAlert) and e.subject == code,
        until=lambda f: False, timeout_s=8,
    )
    assert f"{code}:PL-AGAIN-{run}" not in {a.alertId for a in later}
    assert len(later) == 2


def complete(want: int, states: dict[str, ReferralState]) -> bool:
    return len(states) >= want


async def test_referrals_naming_a_revoked_intermediary_are_alerted(
    provisioned: Any, codec: EventCodec, worker: subprocess.Popen[bytes]
) -> None:
    """A rescue names the intermediary involved; every referral made of it carries the code.
    Revoked before: each referral is alerted as it is issued. Revoked after the referrals were
    issued (dated before the decision took effect): alerted when the decision is read, as long
    as the referral was issued on or after the effective date. Another code: nothing."""
    code, later_code, other = new_code(), new_code(), new_code()
    today = datetime.now(UTC).date()
    decision = example_intermediary_revocation().model_copy(update={
        "unifiedSocialCreditCode": code, "effectiveDate": today - timedelta(days=1),
    })
    await publish(provisioned, codec, "market-regulation", decision)
    await worker_has_read(provisioned, "exchange.intermediary-revocation")  # before the rescue
    rescues = {c: new_rescue(WOMAN_GOING_HOME).model_copy(update={"intermediaryCode": c})
               for c in (code, later_code, other)}
    await publish(provisioned, codec, "police", *rescues.values())
    issued: dict[str, dict[str, ReferralState]] = {}
    rules, jurisdiction = load_referral_rules(), load_jurisdiction()
    for c, rescue in rescues.items():
        want = len(plan_referrals(rescue, rules, jurisdiction)[0].referrals)
        issued[c] = await board(provisioned, codec, rescue.caseId or "", partial(complete, want))
        assert all(s.intermediaryCode == c for s in issued[c].values())
    inbox = await collect(
        provisioned, codec, "exchange.referral.to.civil-affairs", "civil-affairs",
        lambda e: isinstance(e, Referral) and e.caseId == rescues[code].caseId,
        until=lambda f: len(f) >= 1,
    )
    assert {r.intermediaryCode for r in inbox} == {code}
    # Decided after the referrals were read: they are alerted when the decision is.
    await publish(provisioned, codec, "market-regulation", decision.model_copy(update={
        "unifiedSocialCreditCode": later_code, "decisionNumber": f"{decision.decisionNumber}-2",
        "effectiveDate": today - timedelta(days=1),
    }))
    expected = {
        short_id(f"{c}:{ident}"): (c, rescues[c].caseId)
        for c in (code, later_code) for ident in issued[c]
    }
    for agency in ("market-regulation", "police"):
        alerts = await collect(
            provisioned, codec, f"exchange.compliance.to.{agency}", agency,
            lambda e: isinstance(e, ComplianceAlert) and e.subject in {code, later_code, other},
            until=lambda f: len({a.alertId for a in f}) >= len(expected),
        )
        got = {a.alertId: (a.subject, a.caseId) for a in alerts}
        assert got == expected, agency
        assert all(a.kind.value == "REVOKED_INTERMEDIARY_NAMED" for a in alerts)
        assert all(a.reason.startswith("referral ") for a in alerts)
        assert not alerts_about(other, alerts)


def custody(case: str, event_id: str, step: InfantCustodyStep, **extra: Any) -> InfantCustodyEvent:
    base = example_infant_custody()
    if step is InfantCustodyStep.WELFARE_INTAKE:
        extra = {"dnaDatabaseRef": None, "institution": "西安市儿童福利院 (fictional)",
                 "unit": AgencyRef(agencyId="civil-affairs"), **extra}
    return base.model_copy(update={"caseId": case, "eventId": event_id, "step": step, **extra})


async def test_infant_intake_without_a_dna_sample_is_alerted(
    provisioned: Any, codec: EventCodec, worker: subprocess.Popen[bytes]
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    good, none, wrong = (f"A610103{kind}{run}" for kind in ("G", "N", "W"))
    intake, sample = InfantCustodyStep.WELFARE_INTAKE, InfantCustodyStep.DNA_SAMPLE_COLLECTED
    await publish(provisioned, codec, "police", custody(good, f"DNA-{run}", sample))
    await publish(
        provisioned, codec, "civil-affairs",
        custody(good, f"IN-G-{run}", intake, dnaSampleEventId=f"DNA-{run}"),
        custody(none, f"IN-N-{run}", intake),
        custody(wrong, f"IN-W-{run}", intake, dnaSampleEventId=f"DNA-{run}"),
    )
    for agency in ("police", "civil-affairs"):
        alerts = await collect(
            provisioned, codec, f"exchange.compliance.to.{agency}", agency,
            lambda e: isinstance(e, ComplianceAlert) and e.caseId in {good, none, wrong},
            until=lambda f: len(f) >= 3, timeout_s=15,
        )
        by_case = {a.caseId: a for a in alerts}
        assert set(by_case) == {none, wrong}, agency
        assert "names no DNA sample" in by_case[none].reason
        assert "not one collected for this case before the intake" in by_case[wrong].reason
        assert by_case[none].kind.value == "INFANT_WITHOUT_DNA_SAMPLE"


async def test_tips_are_routed_and_a_useful_one_rewarded(
    provisioned: Any, codec: EventCodec, worker: subprocess.Popen[bytes]
) -> None:
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    street = example_public_tip().model_copy(update={
        "tipId": f"TIP-S-{run}", "receivedAt": now, "reportedAt": now,
    })
    station = street.model_copy(update={
        "tipId": f"TIP-R-{run}", "tipsterContact": None,
        "location": Location(lat=34.3773, lon=108.9393, facility=TransportFacility(
            kind=TransportFacilityKind.RAILWAY_STATION, name="西安北站")),
    })
    await publish(provisioned, codec, "joint-meeting-office", street, station)
    [to_police] = await collect(
        provisioned, codec, "exchange.tip.to.police", "police",
        lambda e: isinstance(e, TipDispatch) and e.tipId == street.tipId,
        until=lambda f: len(f) >= 1,
    )
    assert to_police.target.unitId == "police.beilin"
    assert to_police.rule == "region-code"
    assert "tipsterContact" not in to_police.model_dump()
    [to_railway] = await collect(
        provisioned, codec, "exchange.tip.to.railway-police", "railway-police",
        lambda e: isinstance(e, TipDispatch) and e.tipId == station.tipId,
        until=lambda f: len(f) >= 1,
    )
    assert to_railway.target.unitId == "railway-police.xian-north-station"

    useful = TipOutcome(tipId=street.tipId, ledToResult=True, result=f"rescue R-{run}",
                        unit=to_police.target, decidedAt=datetime.now(UTC))
    useless = TipOutcome(tipId=station.tipId, ledToResult=False,
                         unit=to_railway.target, decidedAt=datetime.now(UTC))
    await publish(provisioned, codec, "police", useful, useful)  # the repeat is not rewarded twice
    await publish(provisioned, codec, "railway-police", useless)
    rewards = await collect(
        provisioned, codec, "exchange.reward-eligibility", "joint-meeting-office",
        lambda e: isinstance(e, RewardEligibility) and e.tipId in {street.tipId, station.tipId},
        until=lambda f: False, timeout_s=10,
    )
    assert [(r.tipId, r.result, r.tipsterReachable) for r in rewards] == [
        (street.tipId, f"rescue R-{run}", True)
    ]
    assert rewards[0].receivedBy == street.receivedBy
    await asyncio.sleep(0)



async def test_an_intake_before_its_dna_sample_is_alerted(
    provisioned: Any, codec: EventCodec, worker: subprocess.Popen[bytes]
) -> None:
    """The sample must come first: an intake naming a sample the police record only after it is
    alerted (the sample recorded later does not make it in order)."""
    run = uuid.uuid4().hex[:8].upper()
    case = f"A610103L{run}"
    await publish(provisioned, codec, "civil-affairs", custody(
        case, f"IN-L-{run}", InfantCustodyStep.WELFARE_INTAKE, dnaSampleEventId=f"DNA-L-{run}"))
    await worker_has_read(provisioned, "exchange.infant-custody")  # the intake before the sample
    await publish(provisioned, codec, "police",
                  custody(case, f"DNA-L-{run}", InfantCustodyStep.DNA_SAMPLE_COLLECTED))
    alerts = await collect(
        provisioned, codec, "exchange.compliance.to.police", "police",
        lambda e: isinstance(e, ComplianceAlert) and e.caseId == case,
        until=lambda f: False, timeout_s=8,
    )
    assert len(alerts) == 1
    assert "not one collected for this case before the intake" in alerts[0].reason


async def test_tip_outcomes_from_another_unit_or_of_an_unknown_tip_are_dead_lettered(
    provisioned: Any, codec: EventCodec, worker: subprocess.Popen[bytes]
) -> None:
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    tip = example_public_tip().model_copy(update={
        "tipId": f"TIP-X-{run}", "receivedAt": now, "reportedAt": now,
    })
    await publish(provisioned, codec, "joint-meeting-office", tip)
    [dispatch] = await collect(
        provisioned, codec, "exchange.tip.to.police", "police",
        lambda e: isinstance(e, TipDispatch) and e.tipId == tip.tipId,
        until=lambda f: len(f) >= 1,
    )
    railway = AgencyRef(agencyId="railway-police", unitId="railway-police.xian-north-station")
    await publish(provisioned, codec, "railway-police", TipOutcome(
        tipId=tip.tipId, ledToResult=True, result="not ours", unit=railway, decidedAt=now))
    await publish(provisioned, codec, "police", TipOutcome(
        tipId=f"TIP-NONE-{run}", ledToResult=True, result="?", unit=dispatch.target,
        decidedAt=now))

    def message(record: Any) -> str:
        return str(dict(record.headers).get("exchange.error.message", b"").decode())

    dead = await collect(
        provisioned, codec, "exchange.deadletter.workflows", None,
        lambda r: dict(r.headers).get("exchange.original.topic") == b"exchange.tip-outcome"
        and run.encode() in (r.key or b""),  # keyed by tip id
        until=lambda f: len(f) >= 2,
    )
    errors = sorted(message(r) for r in dead)
    assert len(errors) == 2, errors
    assert any("[tip-addressee]" in e and "railway-police" in e for e in errors)
    assert any(f"unknown tip 'TIP-NONE-{run}' [tip-known]" in e for e in errors)
    rewards = await collect(
        provisioned, codec, "exchange.reward-eligibility", "joint-meeting-office",
        lambda e: isinstance(e, RewardEligibility) and run in e.tipId,
        until=lambda f: False, timeout_s=5,
    )
    assert rewards == []
