"""The lifecycle paths that ``test_referrals_broker`` leaves out, against the real broker with a
running worker: accepted then declined, in progress then transferred, the transferred referral
completed by the agency that took it over (and refused to the one that handed it on), repeated
steps ignored, and steps or visits for unknown or unsuitable referrals dead-lettered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from exchange.codec import EventCodec
from exchange.models.common import AgencyRef
from exchange.models.referrals import FollowUpVisit, ReferralPurpose, ReferralState, ReferralStatus
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.rules.referral_rules import load_referral_rules, plan_referrals
from tests.workflows.referral_people import WOMAN_GOING_HOME
from tests.workflows.test_referrals_broker import board, collect, new_rescue, one, publish, update
from tests.workflows.test_worker_broker import start_worker, stop_worker

pytestmark = pytest.mark.broker

P, S = ReferralPurpose, ReferralStatus
RELIEF = AgencyRef(agencyId="civil-affairs", unitId="civil-affairs.relief-station")


def error_of(record: Any) -> str:
    return str(dict(record.headers).get("exchange.error.message", b"").decode())


async def test_the_other_lifecycle_paths(provisioned: Any, codec: EventCodec) -> None:
    rescue = new_rescue(WOMAN_GOING_HOME)
    case = rescue.caseId or ""
    want = len(plan_referrals(rescue, load_referral_rules(), load_jurisdiction())[0].referrals)
    worker = start_worker(provisioned)
    try:
        await publish(provisioned, codec, "police", rescue)
        states = await board(provisioned, codec, case, lambda s: len(s) >= want)
        legal = one(states, "justice", P.LEGAL_AID, 0)
        medical = one(states, "health", P.MEDICAL_CARE, 0)
        psych = one(states, "health", P.PSYCHOLOGICAL_CARE, 0)
        # Accepted, then declined (allowed until work has started).
        await publish(provisioned, codec, "justice", update(legal, S.ACCEPTED),
                      update(legal, S.DECLINED, reason="the court appointed counsel"))
        # Every step sent twice: the repeats change nothing.
        await publish(provisioned, codec, "health", update(medical, S.ACCEPTED),
                      update(medical, S.ACCEPTED), update(medical, S.COMPLETED),
                      update(medical, S.COMPLETED))
        # In progress, then transferred to the relief station's clinic.
        await publish(provisioned, codec, "health", update(psych, S.ACCEPTED),
                      update(psych, S.IN_PROGRESS),
                      update(psych, S.TRANSFERRED, reason="counselling at the shelter",
                             transferTo=RELIEF))  # fmt: skip

        def taken_over(s: dict[str, ReferralState]) -> bool:
            return any(x.fromAgency.agencyId == "health" for x in s.values())

        states = await board(provisioned, codec, case, taken_over)
        [new] = [x for x in states.values() if x.fromAgency.agencyId == "health"]
        assert new.toAgency == RELIEF
        assert new.purpose is P.PSYCHOLOGICAL_CARE
        assert new.dueAt - new.issuedAt == psych.dueAt - psych.issuedAt
        # The clinic completes it; health may no longer report on it.
        by_health = update(new, S.ACCEPTED).model_copy(
            update={"by": AgencyRef(agencyId="health")}
        )
        await publish(provisioned, codec, "health", by_health)
        await publish(provisioned, codec, "civil-affairs", update(new, S.ACCEPTED),
                      update(new, S.COMPLETED))
        # Refused: a step after the end, a step of an unknown referral, a visit of a referral
        # that schedules none.
        await publish(provisioned, codec, "health", update(medical, S.IN_PROGRESS))
        ghost = legal.model_copy(update={"referralId": f"RF-GHOST-{uuid.uuid4().hex[:8]}"})
        await publish(provisioned, codec, "justice", update(ghost, S.ACCEPTED))
        await publish(provisioned, codec, "police", FollowUpVisit(
            referralId=legal.referralId, caseId=case, visit=1,
            unit=AgencyRef(agencyId="police", unitId="police.command-centre"),
            visitedAt=datetime.now(UTC)))  # fmt: skip

        def settled(s: dict[str, ReferralState]) -> bool:
            return new.referralId in s and s[new.referralId].status is S.COMPLETED

        states = await board(provisioned, codec, case, settled)
        history = await collect(
            provisioned, codec, "exchange.referral-board", "joint-meeting-office",
            lambda e: isinstance(e, ReferralState) and e.referralId == medical.referralId,
            until=lambda f: any(x.status is S.COMPLETED for x in f),
        )
    finally:
        stop_worker(worker)
    assert states[legal.referralId].status is S.DECLINED
    assert states[legal.referralId].statusReason == "the court appointed counsel"
    assert states[psych.referralId].status is S.TRANSFERRED
    assert states[psych.referralId].transferredTo == RELIEF
    assert states[new.referralId].status is S.COMPLETED
    assert [x.status for x in history] == [S.ISSUED, S.ACCEPTED, S.COMPLETED]
    assert states[medical.referralId].status is S.COMPLETED  # the late step changed nothing

    dead = await collect(
        provisioned, codec, "exchange.deadletter.workflows", None,
        lambda r: dict(r.headers).get("exchange.original.topic") == b"exchange.referral-update"
        and any(i in error_of(r) for i in (new.referralId, medical.referralId, ghost.referralId,
                                           legal.referralId)),
        until=lambda f: len(f) >= 4,
    )  # fmt: skip
    errors = sorted(error_of(r) for r in dead)
    assert len(errors) == 4, errors
    assert any("health reported a step" in e and "[referral-addressee]" in e for e in errors)
    assert any("COMPLETED → IN_PROGRESS is not allowed (allowed: nothing)" in e for e in errors)
    assert any(f"unknown referral {ghost.referralId!r} [referral-known]" in e for e in errors)
    assert any("schedules no follow-up visits [follow-up-referral]" in e for e in errors)
