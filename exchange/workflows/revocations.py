"""Intermediary revocation (Art. 7): a table of revoked and banned intermediaries, and an alert
whenever a later event names one.

Market regulation publishes each decision (``IntermediaryRevocation``) on the compacted topic
``exchange.intermediary-revocation``, which human resources, police and cyberspace read
directly (the topology's ACLs deliver it). The workflow keeps a *global* table keyed by unified
social credit code (events that name an intermediary are keyed otherwise and arrive on any
partition): REVOKED and BANNED put the code in, REINSTATED takes it out.

A ``JobPlacement`` (``exchange.job-placement``), a ``PublicTip`` (``exchange.tip``) or a
referral that names a code in the table, dated on or after the decision's effective date, raises
a ``ComplianceAlert`` (REVOKED_INTERMEDIARY_NAMED) to market regulation and police. Referrals are
seen on the referral board (``exchange.referral-board``): a rescue may name the intermediary
involved (``Rescue.intermediaryCode``), every referral made of it (and every transfer of one)
carries the code, and its ISSUED state on the board is checked, dated by when it was issued.
Referrals an agency sends straight to another's inbox are not on the board and not checked (the
workflows may not read the inboxes).

"Later" is business time, not the order the worker reads the topics in: each mention is also
kept (global table ``intermediary-mentions``, the last :data:`MENTIONS_KEPT` per code, with its
case), and a decision read after a mention dated on or after its effective date raises the same
alert (same id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import faust

from exchange.codec import DecodedEvent
from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert, ComplianceAlertKind
from exchange.models.intermediaries import IntermediaryAction, IntermediaryRevocation, JobPlacement
from exchange.models.referrals import ReferralState, ReferralStatus
from exchange.models.tips import PublicTip
from exchange.workflows.compliance import ComplianceSender, short_id
from exchange.workflows.runtime import Incoming, Streams, WorkflowContext

REVOCATION_TOPIC = "exchange.intermediary-revocation"
PLACEMENT_TOPIC = "exchange.job-placement"
TIP_TOPIC = "exchange.tip"
BOARD_TOPIC = "exchange.referral-board"
ALERTED = (AgencyRef(agencyId="market-regulation"), AgencyRef(agencyId="police"))
CST = timezone(timedelta(hours=8))
MENTIONS_KEPT = 200


@dataclass(frozen=True)
class Revoked:
    """What the table keeps per revoked or banned intermediary."""

    decision: str
    action: IntermediaryAction
    effective: date

    def dumps(self) -> bytes:
        return json.dumps({
            "decision": self.decision, "action": self.action.value,
            "effective": self.effective.isoformat(),
        }).encode()  # fmt: skip

    @classmethod
    def loads(cls, raw: bytes) -> Revoked:
        data: dict[str, Any] = json.loads(raw)
        return cls(
            data["decision"], IntermediaryAction(data["action"]),
            date.fromisoformat(data["effective"]),
        )  # fmt: skip


def named_alert(
    code: str, revoked: Revoked, *, what: str, ref: str, case_id: str | None, when: datetime,
    now: datetime,
) -> ComplianceAlert | None:
    """The alert for an event (``what`` ``ref``) naming ``code`` at ``when``; None when the
    decision had not taken effect yet."""
    if when.astimezone(CST).date() < revoked.effective:
        return None
    return ComplianceAlert(
        alertId=short_id(f"{code}:{ref}"), kind=ComplianceAlertKind.REVOKED_INTERMEDIARY_NAMED,
        subject=code, caseId=case_id, addressedTo=ALERTED, rule="revoked-intermediary",
        reason=f"{what} {ref} names intermediary {code}, {revoked.action.value.lower()} by "
        f"decision {revoked.decision} effective {revoked.effective.isoformat()} "
        "(西安市反拐实施细则 第七条, Art. 7)",
        raisedAt=now,
    )  # fmt: skip


class RevocationWorkflow:
    """Handlers and global tables of the intermediary revocation workflow."""

    def __init__(self, app: faust.App, context: WorkflowContext, streams: Streams) -> None:
        self.context = context
        self.metrics = context.metrics
        self.table = streams.table("revoked-intermediaries", REVOCATION_TOPIC, global_=True)
        self.mentions = streams.table("intermediary-mentions", REVOCATION_TOPIC, global_=True)
        self.alerts = ComplianceSender(streams, context, "revocations")
        streams.on(REVOCATION_TOPIC, self.on_decision)
        streams.on(PLACEMENT_TOPIC, self.on_placement)
        streams.on(TIP_TOPIC, self.on_tip)
        streams.on(BOARD_TOPIC, self.on_referral)

    async def on_decision(self, decoded: DecodedEvent, record: Incoming) -> None:
        decision = decoded.event
        if not isinstance(decision, IntermediaryRevocation):
            raise TypeError(f"{REVOCATION_TOPIC} carries IntermediaryRevocation")
        code = decision.unifiedSocialCreditCode
        if decision.action is IntermediaryAction.REINSTATED:
            if self.table.get(code) is not None:
                del self.table[code]
        else:
            revoked = Revoked(decision.decisionNumber, decision.action, decision.effectiveDate)
            self.table[code] = revoked.dumps()
            for what, ref, when, case_id in self._mentions(code):
                await self._alert(code, revoked, what=what, ref=ref, when=when, case_id=case_id)
        self.metrics.revoked.labels(decision.action.value).inc()

    def _mentions(self, code: str) -> list[tuple[str, str, datetime, str | None]]:
        """The mentions of ``code`` kept: what, its id, when, its case (older entries have
        none)."""
        raw = self.mentions.get(code)
        return [
            (what, ref, datetime.fromisoformat(when), case[0] if case else None)
            for what, ref, when, *case in json.loads(raw)
        ] if raw else []  # fmt: skip

    async def _alert(self, code: str, revoked: Revoked, *, what: str, ref: str,
                     when: datetime, case_id: str | None = None) -> None:
        alert = named_alert(
            code, revoked, what=what, ref=ref, case_id=case_id, when=when,
            now=self.context.clock(),
        )
        if alert is not None:
            await self.alerts.send(alert)
            self.metrics.compliance_alerts.labels(alert.kind.value).inc()

    async def _check(
        self, code: str | None, *, what: str, ref: str, when: datetime,
        case_id: str | None = None,
    ) -> None:
        if code is None:
            return
        kept = [m for m in self._mentions(code) if m[1] != ref][-(MENTIONS_KEPT - 1):]
        kept.append((what, ref, when, case_id))
        self.mentions[code] = json.dumps(
            [[w, r, t.isoformat(), c] for w, r, t, c in kept], ensure_ascii=False
        ).encode()
        raw = self.table.get(code)
        if raw is not None:
            await self._alert(
                code, Revoked.loads(raw), what=what, ref=ref, when=when, case_id=case_id
            )

    async def on_placement(self, decoded: DecodedEvent, record: Incoming) -> None:
        placement = decoded.event
        if not isinstance(placement, JobPlacement):
            raise TypeError(f"{PLACEMENT_TOPIC} carries JobPlacement")
        await self._check(
            placement.intermediaryCode, what="job placement", ref=placement.placementId,
            when=placement.placedAt,
        )  # fmt: skip

    async def on_tip(self, decoded: DecodedEvent, record: Incoming) -> None:
        tip = decoded.event
        if not isinstance(tip, PublicTip):
            raise TypeError(f"{TIP_TOPIC} carries PublicTip")
        await self._check(
            tip.intermediaryCode, what="public tip", ref=tip.tipId, when=tip.receivedAt,
        )  # fmt: skip

    async def on_referral(self, decoded: DecodedEvent, record: Incoming) -> None:
        state = decoded.event
        if not isinstance(state, ReferralState):
            raise TypeError(f"{BOARD_TOPIC} carries ReferralState")
        if state.status is not ReferralStatus.ISSUED or state.escalated:
            return  # a referral is checked once, when it is issued (or transferred)
        await self._check(
            state.intermediaryCode, what="referral", ref=state.referralId, when=state.issuedAt,
            case_id=state.caseId,
        )  # fmt: skip
