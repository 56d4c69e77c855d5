"""Public tips (Art. 9): each tip goes to the police unit responsible for its place, and a tip
that led to a result becomes eligible for a reward.

A ``PublicTip`` on ``exchange.tip`` is routed by the sighting rules themselves
(:func:`exchange.rules.routing.route_sighting`, applied to the tip seen as a sighting of its
place: a station, the airport, the metro, a district by region code or coordinates, else the
command centre, flagged). The ``TipDispatch``, without the tipster's contact, goes to
``exchange.tip.to.<police agency>``. A table keyed by tip id (co-partitioned with
``exchange.tip-outcome``) remembers where each went; the unit's ``TipOutcome`` with
``ledToResult`` produces one ``RewardEligibility`` on ``exchange.reward-eligibility`` for the
joint-meeting office. An outcome for an unknown tip, or from another unit, is dead-lettered.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import faust

from exchange.codec import DecodedEvent
from exchange.models.common import AgencyRef
from exchange.models.sightings import TransportSighting
from exchange.models.tips import PublicTip, RewardEligibility, TipDispatch, TipOutcome
from exchange.rules.jurisdiction import Jurisdiction
from exchange.rules.routing import route_sighting
from exchange.workflows.runtime import Incoming, Streams, WorkflowContext

TIP_TOPIC = "exchange.tip"
OUTCOME_TOPIC = "exchange.tip-outcome"
REWARD_TOPIC = "exchange.reward-eligibility"


def as_sighting(tip: PublicTip) -> TransportSighting:
    """The tip as a sighting of its place, for the sighting routing rules."""
    return TransportSighting(
        sightingId=tip.tipId, observedAt=tip.receivedAt, location=tip.location,
        reporter=tip.receivedBy, situation=tip.summary, childAtRisk=tip.childAtRisk,
        reportedAt=max(tip.reportedAt, tip.receivedAt),
    )  # fmt: skip


def dispatch_tip(tip: PublicTip, jurisdiction: Jurisdiction, now: datetime) -> TipDispatch:
    """Where ``tip`` goes and why (pure)."""
    decision = route_sighting(as_sighting(tip), jurisdiction)
    target = decision.target
    return TipDispatch(
        tipId=tip.tipId, target=AgencyRef(agencyId=target.agency_id, unitId=target.unit_id),
        rule=decision.rule, reason=decision.reason, flagged=decision.flagged,
        channel=tip.channel, receivedAt=tip.receivedAt, location=tip.location,
        summary=tip.summary, childAtRisk=tip.childAtRisk,
        intermediaryCode=tip.intermediaryCode, caseId=tip.caseId, dispatchedAt=now,
    )  # fmt: skip


class TipWorkflow:
    """Handlers and table of the public tip workflow."""

    def __init__(
        self, app: faust.App, context: WorkflowContext, streams: Streams,
        jurisdiction: Jurisdiction,
    ) -> None:
        self.context = context
        self.jurisdiction = jurisdiction
        self.metrics = context.metrics
        streams.require_co_partitioned(TIP_TOPIC, OUTCOME_TOPIC)
        self.streams = streams
        self.tips = streams.table("tips", TIP_TOPIC)
        self.inboxes = streams.inboxes("exchange.tip.to.")
        self.rewards = streams.raw_topic(REWARD_TOPIC)
        streams.on(TIP_TOPIC, self.on_tip)
        streams.on(OUTCOME_TOPIC, self.on_outcome)

    async def _send(self, topic: Any, event: Any, event_id: str) -> None:
        await self.streams.emit(  # confirmed: the tip's table entry records it next
            event, topic, id=event_id, source="tips", confirmed=True
        )

    async def on_tip(self, decoded: DecodedEvent, record: Incoming) -> None:
        tip = decoded.event
        if not isinstance(tip, PublicTip):
            raise TypeError(f"{TIP_TOPIC} carries PublicTip")
        if self.tips.get(tip.tipId) is not None:
            return  # routed before (the same tip published again)
        dispatch = dispatch_tip(tip, self.jurisdiction, self.context.clock())
        inbox = self.inboxes.get(dispatch.target.agencyId)
        if inbox is None:
            raise LookupError(f"no tip inbox for {dispatch.target.agencyId!r}")
        await self._send(inbox, dispatch, f"{tip.tipId}:dispatch")
        self.tips[tip.tipId] = json.dumps({
            "agency": dispatch.target.agencyId, "channel": tip.channel.value,
            "receivedBy": tip.receivedBy.model_dump(mode="json"),
            "reachable": tip.tipsterContact is not None, "rewarded": False,
        }).encode()  # fmt: skip
        self.metrics.tips_routed.labels(
            dispatch.target.agencyId, tip.channel.value, dispatch.rule
        ).inc()

    async def on_outcome(self, decoded: DecodedEvent, record: Incoming) -> None:
        outcome = decoded.event
        if not isinstance(outcome, TipOutcome):
            raise TypeError(f"{OUTCOME_TOPIC} carries TipOutcome")
        raw = self.tips.get(outcome.tipId)
        if raw is None:
            raise LookupError(f"tipId: unknown tip {outcome.tipId!r} [tip-known]")
        tip: dict[str, Any] = json.loads(raw)
        if outcome.unit.agencyId != tip["agency"]:
            raise PermissionError(
                f"unit.agencyId: {outcome.unit.agencyId} reported the outcome of a tip "
                f"dispatched to {tip['agency']} [tip-addressee]"
            )
        if not outcome.ledToResult or tip["rewarded"]:
            return
        reward = RewardEligibility(
            tipId=outcome.tipId, channel=tip["channel"], result=outcome.result or "",
            unit=outcome.unit, tipsterReachable=tip["reachable"],
            receivedBy=AgencyRef.model_validate(tip["receivedBy"]),
            eligibleAt=outcome.decidedAt,
        )  # fmt: skip
        await self._send(self.rewards, reward, f"{outcome.tipId}:reward")
        self.tips[outcome.tipId] = json.dumps({**tip, "rewarded": True}).encode()
        self.metrics.rewards.labels(tip["channel"]).inc()
