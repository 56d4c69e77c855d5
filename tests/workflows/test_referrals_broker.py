"""The referral workflow against the real broker with a running worker: the plan for rescued
people of different ages, nationalities and situations, every lifecycle path, refused steps
dead-lettered, and overdue escalation to the joint-meeting office."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from exchange.client.publisher import Publisher
from exchange.codec import EventCodec
from exchange.codec.exceptions import DecodeError
from exchange.metrics import BusMetrics
from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert
from exchange.models.referrals import (
    FollowUpVisit,
    Referral,
    ReferralPurpose,
    ReferralState,
    ReferralStatus,
    ReferralUpdate,
    Rescue,
)
from exchange.protection.exceptions import VerificationError
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.rules.referral_rules import load_referral_rules, plan_referrals
from tests.cli.test_cli import run_cli
from tests.workflows.referral_people import PEOPLE, WOMAN_GOING_HOME, rescue_of
from tests.workflows.test_worker_broker import start_worker, stop_worker

pytestmark = pytest.mark.broker

P, S = ReferralPurpose, ReferralStatus


async def publish(provisioned: Any, codec: EventCodec, agency: str, *events: BaseModel) -> None:
    async with Publisher(
        provisioned.kafka_as(agency), codec, provisioned.topology, agency=agency,
        source=f"/agencies/{agency}/test", metrics=BusMetrics.on(CollectorRegistry()),
        protection=provisioned.protection_for(agency),
    ) as publisher:
        for event in events:
            await publisher.publish(event)


async def collect(
    provisioned: Any, codec: EventCodec, topic: str, agency: str | None,
    keep: Callable[[Any], bool], *, until: Callable[[list[Any]], bool], timeout_s: float = 60,
) -> list[Any]:
    """Events of ``topic`` that ``keep`` accepts, read as ``agency`` (None: the admin), until
    ``until`` holds for them or the time is up."""
    settings = provisioned.kafka_as(agency) if agency else provisioned.broker.admin
    group = f"{agency or 'operators'}.test.{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(
        topic, **settings.aiokafka_kwargs(), group_id=group, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_s
        while not until(found) and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    if agency is None:
                        found.extend([record] if keep(record) else [])
                        continue
                    try:
                        event = provisioned.open_as(agency, record).event
                    except (DecodeError, VerificationError):
                        continue  # another test's poison record on a shared inbox
                    if keep(event):
                        found.append(event)
    finally:
        await consumer.stop()
    return found


async def board(
    provisioned: Any, codec: EventCodec, case_id: str,
    until: Callable[[dict[str, ReferralState]], bool],
) -> dict[str, ReferralState]:
    """The latest state of each referral of ``case_id`` on the referral board."""
    def latest(states: list[ReferralState]) -> dict[str, ReferralState]:
        return {s.referralId: s for s in states}

    states = await collect(
        provisioned, codec, "exchange.referral-board", "joint-meeting-office",
        lambda e: isinstance(e, ReferralState) and e.caseId == case_id,
        until=lambda found: until(latest(found)),
    )
    return latest(states)


def update(state: ReferralState, status: ReferralStatus, **extra: Any) -> ReferralUpdate:
    return ReferralUpdate(
        referralId=state.referralId, caseId=state.caseId, status=status,
        by=AgencyRef(agencyId=state.toAgency.agencyId, unitId=state.toAgency.unitId),
        updatedAt=datetime.now(UTC), **extra,
    )


def one(states: dict[str, ReferralState], agency: str, purpose: ReferralPurpose,
        person: int) -> ReferralState:
    [found] = [
        s for s in states.values()
        if s.toAgency.agencyId == agency and s.purpose is purpose and s.personIndex == person
    ]
    return found


def new_rescue(*victims: Any) -> Rescue:
    run = uuid.uuid4().hex[:8].upper()
    return rescue_of(*victims, rescue_id=f"R-T{run}").model_copy(
        update={"caseId": f"A610116T{run}"}
    )


async def test_rescue_referrals_and_every_lifecycle_path(
    provisioned: Any, codec: EventCodec
) -> None:
    rescue = new_rescue(*PEOPLE)
    case = rescue.caseId or ""
    planned = plan_referrals(rescue, load_referral_rules(), load_jurisdiction())
    expected = sum(len(plan.referrals) for plan in planned)
    worker = start_worker(provisioned)
    try:
        await publish(provisioned, codec, "police", rescue)
        states = await board(provisioned, codec, case, lambda s: len(s) >= expected)
        assert len(states) == expected
        assert all(s.status is S.ISSUED for s in states.values())
        assert all(s.decision.startswith("rule ") for s in states.values())

        # The agencies find them in their inboxes, with the person; the board has no person.
        training = await collect(
            provisioned, codec, "exchange.referral.to.human-resources", "human-resources",
            lambda e: isinstance(e, Referral) and e.caseId == case, until=lambda f: len(f) >= 1,
        )
        # the boy of 17 who cannot go home, only; human resources holds no contact grant, so
        # his home region reaches it sealed (read as its placeholder, None)
        assert [(r.purpose, r.subject) for r in training] == [
            (P.JOB_TRAINING, PEOPLE[1].person.model_copy(update={"homeRegionCode": None}))
        ]
        assert PEOPLE[1].person.homeRegionCode  # (so the line above proves the sealing)
        assert "aged 16+" in (training[0].notes or "")
        foreign = one(states, "foreign-affairs", P.REPATRIATION, 4)
        assert "nationality VNM" in foreign.decision
        assert {s.personIndex for s in states.values() if s.purpose is P.SCHOOL_ENROLMENT} == {2, 3}
        assert one(states, "police", P.FOLLOW_UP, 1).toAgency.unitId == "police.yanta"
        assert one(states, "disabled-persons-federation", P.DISABILITY_SUPPORT, 5)

        hr = one(states, "human-resources", P.JOB_TRAINING, 1)
        legal = one(states, "justice", P.LEGAL_AID, 0)
        medical = one(states, "health", P.MEDICAL_CARE, 0)
        school = one(states, "education", P.SCHOOL_ENROLMENT, 3)
        relief = AgencyRef(agencyId="civil-affairs", unitId="civil-affairs.relief-station")
        await publish(provisioned, codec, "human-resources", update(hr, S.ACCEPTED),
                      update(hr, S.IN_PROGRESS), update(hr, S.COMPLETED))
        await publish(provisioned, codec, "justice",
                      update(legal, S.DECLINED, reason="a lawyer of her choice already acts"))
        clinic = "treated at the relief station's clinic"
        await publish(provisioned, codec, "health", update(medical, S.ACCEPTED),
                      update(medical, S.TRANSFERRED, reason=clinic, transferTo=relief))
        # Refused: a step by the wrong agency, and a step the lifecycle does not allow.
        wrong = update(hr, S.ACCEPTED).model_copy(update={"by": AgencyRef(agencyId="education")})
        await publish(provisioned, codec, "education", wrong, update(school, S.IN_PROGRESS))

        def settled(s: dict[str, ReferralState]) -> bool:
            return (len(s) == expected + 1 and s[hr.referralId].status is S.COMPLETED
                    and s[legal.referralId].status is S.DECLINED
                    and s[medical.referralId].status is S.TRANSFERRED)

        states = await board(provisioned, codec, case, settled)
        assert settled(states), {k: v.status for k, v in states.items()}
        assert states[legal.referralId].statusReason == "a lawyer of her choice already acts"
        assert states[medical.referralId].transferredTo == relief
        [taken_over] = [s for s in states.values() if s.fromAgency.agencyId == "health"]
        assert taken_over.status is S.ISSUED
        assert taken_over.toAgency == relief
        assert taken_over.purpose is P.MEDICAL_CARE
        assert states[school.referralId].status is S.ISSUED  # the refused step changed nothing
        inbox = await collect(
            provisioned, codec, "exchange.referral.to.civil-affairs", "civil-affairs",
            lambda e: isinstance(e, Referral) and e.referralId == taken_over.referralId,
            until=lambda f: len(f) >= 1,
        )
        assert inbox[0].fromAgency.agencyId == "health"
        assert inbox[0].subject == WOMAN_GOING_HOME.person
    finally:
        stop_worker(worker)

    await refused_steps_are_dead_lettered(provisioned, codec, hr.referralId, school.referralId)


async def refused_steps_are_dead_lettered(
    provisioned: Any, codec: EventCodec, *referral_ids: str
) -> None:
    def message(record: Any) -> str:
        return str(dict(record.headers).get("exchange.error.message", b"").decode())

    dead = await collect(
        provisioned, codec, "exchange.deadletter.workflows", None,
        lambda r: dict(r.headers).get("exchange.original.topic") == b"exchange.referral-update"
        and any(ident in message(r) for ident in referral_ids),
        until=lambda f: len(f) >= 2,
    )
    messages = sorted(message(r) for r in dead)
    assert len(messages) == 2, messages
    assert any("by.agencyId: education reported" in m and "[referral-addressee]" in m
               for m in messages)
    assert any("status: ISSUED → IN_PROGRESS is not allowed" in m for m in messages)


async def test_overdue_referral_escalates_to_the_joint_meeting_office(
    provisioned: Any, codec: EventCodec
) -> None:
    """With --time-scale 17280 a day lasts 5 s: temporary assistance (24 h) falls overdue
    while the follow-up (720 h = 150 s), completed at once, never does."""
    rescue = new_rescue(WOMAN_GOING_HOME)
    case = rescue.caseId or ""
    expected = len(plan_referrals(rescue, load_referral_rules(), load_jurisdiction())[0].referrals)
    worker = start_worker(provisioned, "--time-scale", "17280")
    try:
        await publish(provisioned, codec, "police", rescue)
        states = await board(provisioned, codec, case, lambda s: len(s) >= expected)
        follow_up = one(states, "police", P.FOLLOW_UP, 0)
        temporary = one(states, "civil-affairs", P.TEMPORARY_ASSISTANCE, 0)
        await publish(provisioned, codec, "police", update(follow_up, S.ACCEPTED),
                      update(follow_up, S.COMPLETED))
        await publish(provisioned, codec, "civil-affairs", update(temporary, S.ACCEPTED))
        alerts = await collect(
            provisioned, codec, "exchange.compliance.to.joint-meeting-office",
            "joint-meeting-office",
            lambda e: isinstance(e, ComplianceAlert) and e.caseId == case,
            until=lambda f: temporary.referralId in {a.subject for a in f},
        )
        mine = [a for a in alerts if a.subject == temporary.referralId]
        assert len(mine) == 1
        assert mine[0].kind.value == "REFERRAL_OVERDUE"
        assert "still ACCEPTED after its due time" in mine[0].reason
        agency_alerts = await collect(
            provisioned, codec, "exchange.compliance.to.civil-affairs", "civil-affairs",
            lambda e: isinstance(e, ComplianceAlert) and e.subject == temporary.referralId,
            until=lambda f: len(f) >= 1,
        )
        assert agency_alerts[0].alertId == mine[0].alertId
        ident = temporary.referralId
        states = await board(provisioned, codec, case, lambda s: ident in s and s[ident].escalated)
        assert states[temporary.referralId].overdue
        assert states[follow_up.referralId].status is S.COMPLETED
        assert not states[follow_up.referralId].escalated
        assert follow_up.referralId not in {a.subject for a in alerts}
    finally:
        stop_worker(worker)
    await asyncio.sleep(0)
    board_cli_shows_the_overdue_referral(provisioned, temporary.referralId)


def board_cli_shows_the_overdue_referral(provisioned: Any, referral_id: str) -> None:
    """``exchange referrals`` (as the joint-meeting office) reads the board from the bus."""
    env = {
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent),
    }
    shown = run_cli("referrals", "--agency", "civil-affairs", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    board = json.loads(shown.stdout)
    [line] = board["agencies"]
    assert line["agency"] == "civil-affairs"
    assert line["overdue"] >= 1
    assert line["escalated"] >= 1
    assert datetime.fromisoformat(line["oldestDue"]) <= datetime.now(UTC)
    [mine] = [r for r in board["open"] if r["referralId"] == referral_id]
    assert mine["escalated"]
    text = run_cli("referrals", env=env)
    assert text.returncode == 0, text.stderr
    [row] = [r for r in text.stdout.splitlines() if referral_id in r]
    assert row.endswith("OVERDUE escalated")
    assert "civil-affairs.relief-station" in row
    assert " late) " in row
    [agency_row] = [r for r in text.stdout.splitlines()
                    if r.startswith("civil-affairs ") and not r.endswith(" open")]
    assert " late) " in agency_row  # its oldest open referral, and how late it is
    assert "civil-affairs 西安市民政局: " in text.stdout


async def test_follow_up_visit_missed_escalates(provisioned: Any, codec: EventCodec) -> None:
    """With --time-scale 864000 ten days last a second: visits fall due at 3, 9, 18 and
    36.5 s, each missed 0.7 s later. Visit 1 is recorded at once, visit 2 is not."""
    rescue = new_rescue(PEOPLE[1])  # the boy of 17, home in Yanta
    case = rescue.caseId or ""
    worker = start_worker(provisioned, "--time-scale", "864000")
    try:
        await publish(provisioned, codec, "police", rescue)
        states = await board(provisioned, codec, case,
                             lambda s: any(x.purpose is P.FOLLOW_UP for x in s.values()))
        follow = one(states, "police", P.FOLLOW_UP, 0)
        assert follow.toAgency.unitId == "police.yanta"
        first = FollowUpVisit(referralId=follow.referralId, caseId=case, visit=1,
                              unit=follow.toAgency, visitedAt=datetime.now(UTC))
        await publish(provisioned, codec, "police", first)
        alerts = await collect(
            provisioned, codec, "exchange.compliance.to.joint-meeting-office",
            "joint-meeting-office",
            lambda e: isinstance(e, ComplianceAlert) and e.kind.value == "FOLLOW_UP_MISSED"
            and e.subject == follow.referralId,
            until=lambda f: any(a.alertId.endswith(":visit2") for a in f), timeout_s=40,
        )
    finally:
        stop_worker(worker)
    visits = {a.alertId.rsplit(":", 1)[1] for a in alerts}
    assert "visit2" in visits
    assert "visit1" not in visits
    [missed] = [a for a in alerts if a.alertId.endswith(":visit2")]
    assert "follow-up visit 2 by police.yanta" in missed.reason
    assert {a.agencyId for a in missed.addressedTo} == {"joint-meeting-office", "police"}
