"""Rescue → referrals: every rescued person referred to each agency that must help, and tracked.

For each ``Rescue`` on ``exchange.rescue`` the referral rules (:mod:`.referral_rules`, data in
``topology/referral_rules.toml``) plan the referrals of every rescued person; each is sent as a
``Referral`` to the agency's inbox (``exchange.referral.to.<agency>``) and its state, with the
reason of the decision, to the referral board (``exchange.referral-board``, compacted, read by
the joint-meeting office and by ``exchange referrals``).

The agency reports each step as a ``ReferralUpdate`` on ``exchange.referral-update``; the step is
checked against the lifecycle (:mod:`.referral_lifecycle`): a step from another agency or one
the lifecycle forbids is dead-lettered with the field and rule, a repeated one ignored. A
transfer issues a new referral to the agency taking over.

Referrals live in a table keyed by referral id, co-partitioned with ``exchange.rescue`` and
``exchange.referral-update`` (both keyed by case id). As in :mod:`.deadlines`, a timer looks at
an in-memory index of due times every second and sends a tick (key = case id, value = referral
id) to ``<app id>-referral-ticks``; the tick agent marks the overdue referral escalated on the
board and sends a ``ComplianceAlert`` to the joint-meeting office and the agency
(``exchange.compliance.to.<agency>``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any

import faust
from pydantic import BaseModel

from exchange.codec import DecodedEvent
from exchange.models.compliance import ComplianceAlert
from exchange.models.referrals import (
    OPEN_STATUSES,
    FollowUpVisit,
    ReferralPurpose,
    ReferralStatus,
    ReferralUpdate,
    Rescue,
)
from exchange.rules import follow_up
from exchange.rules import referral_lifecycle as lifecycle
from exchange.rules.jurisdiction import Jurisdiction
from exchange.rules.referral_rules import ReferralRules, plan_referrals
from exchange.workflows.compliance import ComplianceSender
from exchange.workflows.runtime import Incoming, Streams, WorkflowContext

RESCUE_TOPIC = "exchange.rescue"
UPDATE_TOPIC = "exchange.referral-update"
BOARD_TOPIC = "exchange.referral-board"
REINDEX_EVERY = 30


class ReferralWorkflow:
    """Handlers, table and ticker of the referral workflow."""

    def __init__(
        self, app: faust.App, context: WorkflowContext, streams: Streams, *,
        jurisdiction: Jurisdiction, rules: ReferralRules,
    ) -> None:
        self.context = context
        self.jurisdiction = jurisdiction
        self.rules = rules
        self.metrics = context.metrics
        streams.require_co_partitioned(RESCUE_TOPIC, UPDATE_TOPIC)
        self.streams = streams
        self.table = streams.table("referrals", RESCUE_TOPIC)
        self.referral_inboxes = streams.inboxes("exchange.referral.to.")
        self.alerts = ComplianceSender(streams, context, "referrals")
        self.board = streams.raw_topic(BOARD_TOPIC)
        self.due: dict[str, tuple[datetime, str]] = {}  # open referral id -> due, case id
        self.counted_open: set[str] = set()  # agencies given an open-referrals gauge
        self.scans = 0
        streams.on(RESCUE_TOPIC, self.on_rescue)
        streams.on(UPDATE_TOPIC, self.on_update)
        self.ticker = streams.ticker(
            "referral", source=RESCUE_TOPIC, scan=self.scan, on_tick=self.on_tick
        )

    async def _send(self, topic: Any, event: BaseModel, event_id: str) -> None:
        await self.streams.emit(  # confirmed: the referral's table entry records it next
            event, topic, id=event_id, source="referrals", confirmed=True
        )

    async def _store(self, entry: lifecycle.Entry, event_id: str | None) -> None:
        """Keep ``entry`` in the table and (given an event id) put its state on the board."""
        state = entry.state
        if event_id is not None:  # first: a crash before the table write puts it again
            await self._send(self.board, state, event_id)
        self.table[state.referralId] = entry.dumps()
        due = entry.next_due()
        if due is not None:
            self.due[state.referralId] = (due, state.caseId)
        else:
            self.due.pop(state.referralId, None)

    async def _issue(self, entry: lifecycle.Entry) -> None:
        if entry.referral.purpose is ReferralPurpose.FOLLOW_UP and not entry.visits:
            visits = follow_up.schedule(
                self.rules.follow_up, entry.state.issuedAt, self.context.time_scale
            )
            entry = replace(entry, visits=visits)
        referral = entry.referral
        inbox = self.referral_inboxes.get(referral.toAgency.agencyId)
        if inbox is None:
            raise LookupError(f"no referral inbox for {referral.toAgency.agencyId!r}")
        await self._send(inbox, referral, f"{referral.referralId}:issued")
        await self._store(entry, f"{referral.referralId}:ISSUED")
        self.metrics.referrals_issued.labels(
            referral.toAgency.agencyId, referral.purpose.value
        ).inc()

    async def on_rescue(self, decoded: DecodedEvent, record: Incoming) -> None:
        rescue = decoded.event
        if not isinstance(rescue, Rescue):
            raise TypeError(f"{RESCUE_TOPIC} carries Rescue, not {type(rescue)}")
        now = self.context.clock()
        for plan in plan_referrals(rescue, self.rules, self.jurisdiction):
            for planned in plan.referrals:
                ident = lifecycle.referral_id(rescue.rescueId, plan.person_index, planned)
                if self.table.get(ident) is not None:
                    continue  # issued before (a replayed or repeated rescue)
                await self._issue(lifecycle.issue(rescue, planned, now, self.context.time_scale))

    async def on_update(self, decoded: DecodedEvent, record: Incoming) -> None:
        update = decoded.event
        if isinstance(update, FollowUpVisit):
            await self.on_visit(update)
            return
        if not isinstance(update, ReferralUpdate):
            raise TypeError(f"{UPDATE_TOPIC} carries ReferralUpdate, not {type(update)}")
        raw = self.table.get(update.referralId)
        if raw is None:
            raise LookupError(
                f"referralId: unknown referral {update.referralId!r} [referral-known]"
            )
        entry = lifecycle.Entry.loads(raw)
        step = lifecycle.apply_update(entry, update, self.context.clock())
        if step is None:
            await self._finish_transfer(entry, update)
            return
        state = step.entry.state
        await self._store(step.entry, f"{state.referralId}:{state.status.value}")
        self.metrics.referral_steps.labels(state.toAgency.agencyId, state.status.value).inc()
        self.metrics.referral_seconds.labels(state.toAgency.agencyId, state.status.value).observe(
            max((state.updatedAt - state.issuedAt).total_seconds(), 0.0)
        )
        if step.transferred is not None:
            await self._issue(step.transferred)

    async def _finish_transfer(self, entry: lifecycle.Entry, update: ReferralUpdate) -> None:
        """A repeated transfer whose referral was never issued (a crash after the TRANSFERRED
        state was stored, before the new referral was): issue it now, with the same id."""
        if update.status is not ReferralStatus.TRANSFERRED or update.transferTo is None:
            return
        transferred = lifecycle.transfer(entry, update, self.context.clock())
        if self.table.get(transferred.state.referralId) is None:
            await self._issue(transferred)

    async def on_visit(self, visit: FollowUpVisit) -> None:
        raw = self.table.get(visit.referralId)
        if raw is None:
            raise LookupError(f"referralId: unknown referral {visit.referralId!r} [referral-known]")
        entry = lifecycle.Entry.loads(raw)
        if not entry.visits:
            raise LookupError(
                f"referralId: {visit.referralId} schedules no follow-up visits [follow-up-referral]"
            )
        visits = follow_up.record(entry.state, entry.visits, visit)
        if visits is not None:
            await self._store(replace(entry, visits=visits), None)
            self.metrics.visits.labels(entry.state.toAgency.agencyId).inc()

    async def scan(self) -> None:
        """Send a tick for each open referral past its due time (see the module doc)."""
        self.scans += 1
        if self.scans % REINDEX_EVERY == 1:
            self.reindex()
        now = self.context.clock()
        for ident, (due, case_id) in list(self.due.items()):
            if due < now:
                del self.due[ident]
                await self.ticker.tick(case_id, ident)

    def reindex(self) -> None:
        """Rebuild the due index from the table, and count the open referrals per agency
        (``exchange_referrals_open``; an agency with none left goes back to 0)."""
        self.due = {}
        open_by_agency: Counter[str] = Counter()
        for ident, raw in list(self.table.items()):
            if raw is None:
                continue
            entry = lifecycle.Entry.loads(raw)
            if entry.state.status in OPEN_STATUSES:
                open_by_agency[entry.state.toAgency.agencyId] += 1
            due = entry.next_due()
            if due is not None:
                self.due[ident] = (due, entry.state.caseId)
        for agency in self.counted_open | set(open_by_agency):
            self.metrics.referrals_open.labels(agency).set(open_by_agency[agency])
        self.counted_open |= set(open_by_agency)

    async def on_tick(self, record: Incoming) -> None:
        ident = (record.value or b"").decode()
        raw = self.table.get(ident)
        now = self.context.clock()
        if raw is None:
            return
        entry = lifecycle.Entry.loads(raw)
        if entry.visits_tracked:
            visits, missed = follow_up.escalate_missed(entry.state, entry.visits, now)
            for alert in missed:
                await self.send_alert(alert)
                self.metrics.visits_missed.labels(entry.state.toAgency.agencyId).inc()
            entry = replace(entry, visits=visits)
        if not lifecycle.overdue(entry.state, now):
            await self._store(entry, None)
            return
        marked, alert = lifecycle.escalate(entry, now)
        await self.send_alert(alert)  # first: a crash before the mark escalates again
        await self._store(marked, f"{ident}:escalated")
        state = marked.state
        self.metrics.referrals_overdue.labels(state.toAgency.agencyId, state.purpose.value).inc()

    async def send_alert(self, alert: ComplianceAlert) -> None:
        await self.alerts.send(alert)
