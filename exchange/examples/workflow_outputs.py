"""Examples of the events the workflows publish and the agencies answer with (dispatches and
acknowledgements, alerts, matches, referral updates and states, compliance alerts).

ALL PERSONAL DATA HERE IS FICTIONAL (see :mod:`exchange.examples.core`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from exchange.cap import build_cap, message_identifier
from exchange.examples.core import (
    CST,
    example_missing_person_report,
    example_referral,
    example_transport_sighting,
)
from exchange.models.common import (
    AgencyRef,
)
from exchange.models.compliance import ComplianceAlert, ComplianceAlertKind
from exchange.models.missing_persons import (
    AlertMessageType,
    CandidateMatch,
    EmergencyAlert,
    MatchFactor,
)
from exchange.models.referrals import (
    ReferralState,
    ReferralStatus,
    ReferralUpdate,
)
from exchange.models.sightings import (
    DispatchAcknowledgement,
    DispatchKind,
    SightingDispatch,
)
from exchange.rules.public_alert import public_alert_from

__all__ = [
    "example_candidate_match",
    "example_compliance_alert",
    "example_dispatch_acknowledgement",
    "example_emergency_alert",
    "example_referral_state",
    "example_referral_update",
    "example_sighting_dispatch",
]


def example_sighting_dispatch() -> SightingDispatch:
    """The example sighting, on train G87 at Xi'an North, dispatched to the railway police."""
    sighting = example_transport_sighting()
    return SightingDispatch.of(
        sighting,
        dispatch_id="DS-RW-XAN-20250518-0031-1",
        kind=DispatchKind.RESPOND,
        target=AgencyRef(agencyId="railway-police", unitId="railway-police.xian-north-station"),
        rule="railway-facility",
        reason="train G87 at Xi'an North station: railway police station post",
        flagged=False,
        now=datetime(2025, 5, 18, 18, 4, 1, tzinfo=CST),
        deadline=timedelta(minutes=5),
    )


def example_dispatch_acknowledgement() -> DispatchAcknowledgement:
    """The railway police post at Xi'an North takes charge two minutes later."""
    dispatch = example_sighting_dispatch()
    return DispatchAcknowledgement(
        dispatchId=dispatch.dispatchId,
        sightingId=dispatch.sightingId,
        unit=dispatch.target,
        acknowledgedAt=datetime(2025, 5, 18, 18, 6, tzinfo=CST),
        note="two officers sent to platform 12",
    )


def example_emergency_alert() -> EmergencyAlert:
    """The Alert (100 km) for the example missing child, as the workflows send it."""
    report = example_missing_person_report()
    public = public_alert_from(report)
    sent = report.reportedAt + timedelta(seconds=2)
    identifier = message_identifier(public.reference, 0)
    return EmergencyAlert(
        identifier=identifier, reference=public.reference, msgType=AlertMessageType.ALERT,
        sequence=0, radiusKm=100, centreLat=public.last_seen_lat, centreLon=public.last_seen_lon,
        sent=sent, expires=sent + timedelta(hours=24),
        facilities=("rail.xian-north", "metro.xiaozhai"),
        cap=build_cap(
            public, identifier=identifier, sender="xian.gongan@exchange.bus", sent=sent,
            msg_type="Alert", radius_km=100, expires=sent + timedelta(hours=24),
        ),
    )


def example_candidate_match() -> CandidateMatch:
    """The example sighting may show the example missing boy (fictional)."""
    sighting = example_transport_sighting()
    report = example_missing_person_report()
    return CandidateMatch(
        matchId=f"{sighting.sightingId}~{report.caseId}",
        caseId=report.caseId,
        sightingId=sighting.sightingId,
        personIndex=0,
        score=0.78,
        factors=(
            MatchFactor(factor="gender", score=1.0, detail="both MALE"),
            MatchFactor(factor="age", score=1.0, detail="age 6 within sighting range 4-6"),
            MatchFactor(factor="clothing", score=0.5, detail="clothing: 2 of 4 words shared"),
        ),
        owner=report.reportingUnit,
        sightingLocation=sighting.location,
        observedAt=sighting.observedAt,
        matchedAt=sighting.reportedAt + timedelta(seconds=1),
    )


def example_referral_update() -> ReferralUpdate:
    """Civil affairs has taken the rescued woman in at the relief station."""
    referral = example_referral()
    return ReferralUpdate(
        referralId=referral.referralId, caseId=referral.caseId, status=ReferralStatus.ACCEPTED,
        by=AgencyRef(agencyId="civil-affairs", unitId="civil-affairs.relief-station"),
        updatedAt=referral.reportedAt + timedelta(hours=2),
    )


def example_referral_state() -> ReferralState:
    """The board's line for the referral above, once accepted."""
    referral = example_referral()
    update = example_referral_update()
    return ReferralState(
        referralId=referral.referralId, caseId=referral.caseId, rescueId="R-2025-0042",
        personIndex=0, fromAgency=referral.fromAgency,
        toAgency=referral.toAgency.model_copy(update={"displayName": None}),
        purpose=referral.purpose, legalBasis=referral.legalBasis,
        rule="temporary-assistance",
        decision="needs temporary assistance → civil-affairs TEMPORARY_ASSISTANCE",
        status=update.status, issuedAt=referral.reportedAt,
        dueAt=referral.reportedAt + timedelta(days=1), updatedAt=update.updatedAt,
    )


def example_compliance_alert() -> ComplianceAlert:
    """The referral above was not completed in time."""
    state = example_referral_state()
    return ComplianceAlert(
        alertId=f"{state.referralId}:overdue", kind=ComplianceAlertKind.REFERRAL_OVERDUE,
        subject=state.referralId, caseId=state.caseId,
        addressedTo=(AgencyRef(agencyId="joint-meeting-office"), state.toAgency),
        rule="referral-due",
        reason="TEMPORARY_ASSISTANCE referral to civil-affairs.relief-station still ACCEPTED "
        "after its due time (Art. 6)",
        raisedAt=state.dueAt + timedelta(seconds=1),
    )
