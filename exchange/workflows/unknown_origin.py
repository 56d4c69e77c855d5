"""Children of unknown origin (Art. 9, 来历不明儿童摸排): every report checked by the police unit
of the place in time, with a DNA sample taken.

An ``UnknownOriginChild`` on ``exchange.unknown-origin-child`` (a school at enrolment, civil
affairs, health) is routed by :func:`exchange.rules.unknown_origin.dispatch_report` (the
sighting routing rules; the deadline of ``topology/unknown_origin_rules.toml``) and sent as an
``UnknownOriginDispatch``, asking for the check and the DNA sample, to
``exchange.unknown-origin.to.<police agency>``. A table keyed by report id (co-partitioned with
``exchange.unknown-origin-check``) keeps the dispatch until the unit's ``UnknownOriginCheck``
arrives; a check from another agency, or of an unknown report, is dead-lettered with its rule.
The ticker escalates a report not checked by its due time: one ``ComplianceAlert`` to the
police agency and the joint-meeting office; a check recorded later still closes it.
"""

from __future__ import annotations

import json
from datetime import datetime

import faust

from exchange.codec import DecodedEvent
from exchange.models.unknown_origin import (
    UnknownOriginCheck,
    UnknownOriginChild,
    UnknownOriginDispatch,
)
from exchange.rules.jurisdiction import Jurisdiction
from exchange.rules.unknown_origin import UnknownOriginRules, dispatch_report, unchecked_alert
from exchange.workflows.compliance import ComplianceSender
from exchange.workflows.runtime import Incoming, Streams, WorkflowContext

REPORT_TOPIC = "exchange.unknown-origin-child"
CHECK_TOPIC = "exchange.unknown-origin-check"
INBOX_PREFIX = "exchange.unknown-origin.to."
SOURCE = "unknown-origin"
REINDEX_EVERY = 30


class UnknownOriginWorkflow:
    """Handlers, table and ticker of the children-of-unknown-origin workflow."""

    def __init__(
        self, app: faust.App, context: WorkflowContext, streams: Streams, *,
        jurisdiction: Jurisdiction, rules: UnknownOriginRules,
    ) -> None:
        topology = context.topology
        if topology.topic(CHECK_TOPIC).partitions != topology.topic(REPORT_TOPIC).partitions:
            raise ValueError(f"{CHECK_TOPIC} must have as many partitions as {REPORT_TOPIC}")
        self.context = context
        self.jurisdiction = jurisdiction
        self.rules = rules
        self.streams = streams
        self.reports = streams.table("unknown-origin", REPORT_TOPIC)
        self.inboxes = streams.inboxes(INBOX_PREFIX)
        self.alerts = ComplianceSender(streams, context, SOURCE)
        self.due: dict[str, datetime] = {}  # unchecked report id -> check due
        self.scans = 0
        streams.on(REPORT_TOPIC, self.on_report)
        streams.on(CHECK_TOPIC, self.on_check)
        self.ticker = streams.ticker(
            "unknown-origin", source=REPORT_TOPIC, scan=self.scan, on_tick=self.on_tick
        )

    def _store(self, report_id: str, entry: dict[str, object]) -> None:
        self.reports[report_id] = json.dumps(entry).encode()
        if entry["checked"] or entry["escalated"]:
            self.due.pop(report_id, None)
        else:
            self.due[report_id] = UnknownOriginDispatch.model_validate(entry["dispatch"]).checkDueAt

    def _entry(self, report_id: str) -> dict[str, object] | None:
        raw = self.reports.get(report_id)
        return None if raw is None else dict(json.loads(raw))

    async def on_report(self, decoded: DecodedEvent, record: Incoming) -> None:
        report = decoded.event
        if not isinstance(report, UnknownOriginChild):
            raise TypeError(f"{REPORT_TOPIC} carries UnknownOriginChild, not {type(report)}")
        if self._entry(report.reportId) is not None:
            return  # dispatched before (the same report published again)
        dispatch = dispatch_report(
            report, self.rules, self.jurisdiction, self.context.clock(), self.context.time_scale
        )
        inbox = self.inboxes.get(dispatch.target.agencyId)
        if inbox is None:
            raise LookupError(f"no unknown-origin inbox for {dispatch.target.agencyId!r}")
        await self.streams.emit(
            dispatch, inbox, id=f"{report.reportId}:dispatch", source=SOURCE,
            confirmed=True,  # the report's table entry records it next
        )
        self._store(report.reportId, {
            "dispatch": dispatch.model_dump(mode="json"), "checked": False, "escalated": False,
        })  # fmt: skip

    async def on_check(self, decoded: DecodedEvent, record: Incoming) -> None:
        check = decoded.event
        if not isinstance(check, UnknownOriginCheck):
            raise TypeError(f"{CHECK_TOPIC} carries UnknownOriginCheck, not {type(check)}")
        entry = self._entry(check.reportId)
        if entry is None:
            raise LookupError(
                f"reportId: unknown report {check.reportId!r} [unknown-origin-report-known]"
            )
        dispatch = UnknownOriginDispatch.model_validate(entry["dispatch"])
        if check.unit.agencyId != dispatch.target.agencyId:
            raise PermissionError(
                f"unit.agencyId: {check.unit.agencyId} checked a report dispatched to "
                f"{dispatch.target.agencyId} [unknown-origin-addressee]"
            )
        if entry["checked"]:
            return
        self._store(check.reportId, {
            **entry, "checked": True, "outcome": check.outcome.value,
            "dnaSampleId": check.dnaSampleId,
        })  # fmt: skip

    async def scan(self) -> None:
        """Tick each unchecked report past its due time (the table is re-read now and then:
        after a restart or a rebalance the index starts empty)."""
        self.scans += 1
        if self.scans % REINDEX_EVERY == 1:
            self.reindex()
        now = self.context.clock()
        for report_id, due in list(self.due.items()):
            if due < now:
                del self.due[report_id]
                await self.ticker.tick(report_id, report_id)

    def reindex(self) -> None:
        self.due = {}
        for report_id, raw in list(self.reports.items()):
            if raw is None:
                continue
            entry = json.loads(raw)
            if not (entry["checked"] or entry["escalated"]):
                dispatch = UnknownOriginDispatch.model_validate(entry["dispatch"])
                self.due[report_id] = dispatch.checkDueAt

    async def on_tick(self, record: Incoming) -> None:
        report_id = (record.value or b"").decode()
        entry = self._entry(report_id)
        if entry is None or entry["checked"] or entry["escalated"]:
            return
        dispatch = UnknownOriginDispatch.model_validate(entry["dispatch"])
        now = self.context.clock()
        if dispatch.checkDueAt >= now:
            return
        await self.alerts.send(unchecked_alert(dispatch, self.rules, now))
        self._store(report_id, {**entry, "escalated": True})
