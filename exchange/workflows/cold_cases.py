"""The cold-case ledger (Art. 9, 积案信息台账): open missing-minor cases past the ledger's
threshold, their chief (Art. 8, 一长三包), reviews, leads, and overdue reviews escalated.

The workflow keeps every open missing-minor case (``exchange.missing-person``, keyed by case id)
in a table. The ticker enters a case in the ledger once it has been open for the period of
``topology/cold_case_rules.toml``: a ``ColdCase`` on ``exchange.cold-case`` (compacted, the
latest entry per case id; read by ``exchange cases cold``). Later events that touch the case are
appended to its leads: a ``CandidateMatch`` sent to the owner (``exchange.match.to.<agency>``),
a tip naming the case (``TipDispatch`` on ``exchange.tip.to.<agency>``), a DNA comparison of
one of its samples (``DnaComparisonRequest`` on ``exchange.dna``) or a candidate kinship match
linking it (``KinshipVerification`` on ``exchange.dna-match.to.<agency>``, each step), and the
unit's reviews (``ColdCaseReview`` on ``exchange.cold-case-review``, which also set the
next review due; a review by another agency is dead-lettered). A review not recorded by its due
date is escalated once per due date (``ComplianceAlert`` to the unit's agency, answerable
through its chief, and the joint-meeting office). A case closed (FOUND, withdrawn) is marked
closed in the ledger. The case-keyed topics are co-partitioned; a lead read from a topic keyed
otherwise (tips, DNA) is sent on through the ticker's topic keyed by its case id, so that it is
added on the partition of the case's entry.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import faust

from exchange.codec import DecodedEvent
from exchange.models.cold_cases import ColdCase, ColdCaseLead, ColdCaseLeadKind, ColdCaseReview
from exchange.models.dna import DnaComparisonRequest, KinshipVerification
from exchange.models.missing_persons import (
    CandidateMatch,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.models.tips import TipDispatch
from exchange.rules.cold_cases import (
    ColdCaseRules,
    add_lead,
    dna_leads,
    enter_ledger,
    enters_ledger_at,
    overdue_alert,
    record_review,
    tip_lead,
)
from exchange.workflows.compliance import ComplianceSender
from exchange.workflows.runtime import Incoming, Streams, WorkflowContext

MISSING_TOPIC = "exchange.missing-person"
REVIEW_TOPIC = "exchange.cold-case-review"
LEDGER_TOPIC = "exchange.cold-case"
MATCH_PREFIX = "exchange.match.to."
TIP_PREFIX = "exchange.tip.to."
DNA_MATCH_PREFIX = "exchange.dna-match.to."
DNA_TOPIC = "exchange.dna"
LEAD = "lead:"  # a tick's value: a lead for the case of its key (else: a case id to look at)
SOURCE = "cold-cases"
REINDEX_EVERY = 30


class ColdCaseWorkflow:
    """Handlers, table and ticker of the cold-case ledger."""

    def __init__(
        self, app: faust.App, context: WorkflowContext, streams: Streams, *,
        rules: ColdCaseRules,
    ) -> None:
        topology = context.topology
        partitions = topology.topic(MISSING_TOPIC).partitions
        matches = [t.name for t in topology.topics if t.name.startswith(MATCH_PREFIX)]
        for name in (REVIEW_TOPIC, *matches):
            if topology.topic(name).partitions != partitions:
                raise ValueError(f"{name} must have as many partitions as {MISSING_TOPIC}")
        self.context = context
        self.rules = replace(rules, time_scale=context.time_scale)
        self.streams = streams
        self.cases = streams.table("cold-cases", MISSING_TOPIC)
        self.ledger = streams.raw_topic(LEDGER_TOPIC)
        self.alerts = ComplianceSender(streams, context, SOURCE)
        self.due: dict[str, datetime] = {}  # case id -> when it must next be looked at
        self.scans = 0
        streams.on(MISSING_TOPIC, self.on_report)
        streams.on(REVIEW_TOPIC, self.on_review)
        for name in matches:
            streams.on(name, self.on_match)
        for topic in topology.topics:
            if topic.name.startswith((TIP_PREFIX, DNA_MATCH_PREFIX)):
                streams.on(topic.name, self.on_keyed_elsewhere)
        streams.on(DNA_TOPIC, self.on_keyed_elsewhere)
        self.ticker = streams.ticker(
            "cold-case", source=MISSING_TOPIC, scan=self.scan, on_tick=self.on_tick
        )

    def _load(self, case_id: str) -> tuple[MissingPersonReport, ColdCase | None] | None:
        raw = self.cases.get(case_id)
        if raw is None:
            return None
        entry = json.loads(raw)
        cold = entry.get("cold")
        report = MissingPersonReport.model_validate(entry["report"])
        return report, ColdCase.model_validate(cold) if cold else None

    async def _store(self, report: MissingPersonReport, cold: ColdCase | None,
                     publish: str | None) -> None:
        if publish is not None and cold is not None:  # first: a crash before the write
            await self.streams.emit(  # repeats it; confirmed, as the write records it
                cold, self.ledger, id=publish, source=SOURCE, confirmed=True
            )
        self.cases[report.caseId] = json.dumps({
            "report": report.model_dump(mode="json"),
            "cold": cold.model_dump(mode="json") if cold else None,
        }).encode()  # fmt: skip
        self._index(report, cold)

    def _index(self, report: MissingPersonReport, cold: ColdCase | None) -> None:
        if cold is None:
            due = enters_ledger_at(report, self.rules)
        else:
            due = None if cold.closed or cold.reviewOverdue else cold.nextReviewDue
        if due is None:
            self.due.pop(report.caseId, None)
        else:
            self.due[report.caseId] = due

    async def on_report(self, decoded: DecodedEvent, record: Incoming) -> None:
        report = decoded.event
        if not isinstance(report, MissingPersonReport):
            raise TypeError(f"{MISSING_TOPIC} carries MissingPersonReport, not {type(report)}")
        loaded = self._load(report.caseId)
        cold = loaded[1] if loaded else None
        if cold is None and enters_ledger_at(report, self.rules) is None:
            if loaded is not None:
                del self.cases[report.caseId]
                self.due.pop(report.caseId, None)
            return  # not a case for the ledger (an adult, or closed before it went cold)
        if cold is not None and report.status is not MissingPersonStatus.OPEN and not cold.closed:
            closed = cold.model_copy(update={"closed": True, "updatedAt": report.reportedAt})
            await self._store(report, closed, f"{report.caseId}:closed")
            return
        await self._store(report, cold, None)

    async def on_review(self, decoded: DecodedEvent, record: Incoming) -> None:
        review = decoded.event
        if not isinstance(review, ColdCaseReview):
            raise TypeError(f"{REVIEW_TOPIC} carries ColdCaseReview, not {type(review)}")
        loaded = self._load(review.caseId)
        cold = loaded[1] if loaded is not None else None
        if loaded is None or cold is None:
            raise LookupError(f"caseId: {review.caseId!r} is not in the ledger [cold-case-known]")
        report = loaded[0]
        reviewed = record_review(cold, review, self.rules)
        ident = f"{review.caseId}:review:{review.reviewedAt.isoformat()}"
        await self._store(report, reviewed, ident)

    async def on_match(self, decoded: DecodedEvent, record: Incoming) -> None:
        match = decoded.event
        if not isinstance(match, CandidateMatch):
            return
        loaded = self._load(match.caseId)
        if loaded is None or loaded[1] is None:
            return  # not a cold case
        lead = ColdCaseLead(
            at=match.matchedAt, kind=ColdCaseLeadKind.SIGHTING_MATCH, ref=match.matchId,
            summary=f"sighting {match.sightingId} scored {match.score:.2f}",
        )  # fmt: skip
        updated = add_lead(loaded[1], lead)
        if updated is not None:
            await self._store(loaded[0], updated, f"{match.caseId}:lead:{match.matchId}")

    async def on_keyed_elsewhere(self, decoded: DecodedEvent, record: Incoming) -> None:
        """Tips and DNA comparisons naming cases: each lead goes to its case's partition."""
        event = decoded.event
        leads: list[tuple[str, ColdCaseLead]] = []
        if isinstance(event, TipDispatch):
            named = tip_lead(event)
            leads = [] if named is None else [named]
        elif isinstance(event, KinshipVerification | DnaComparisonRequest):
            leads = dna_leads(event)
        for case_id, lead in leads:
            await self.ticker.tick(case_id, LEAD + lead.model_dump_json())

    async def _add_lead(self, case_id: str, lead: ColdCaseLead) -> None:
        loaded = self._load(case_id)
        if loaded is None or loaded[1] is None:
            return  # not a cold case
        updated = add_lead(loaded[1], lead)
        if updated is not None:
            ident = f"{case_id}:lead:{lead.kind.value}:{lead.ref}"
            await self._store(loaded[0], updated, ident)

    async def scan(self) -> None:
        self.scans += 1
        if self.scans % REINDEX_EVERY == 1:
            self.due = {}
            for case_id, _ in list(self.cases.items()):
                loaded = self._load(case_id)
                if loaded is not None:
                    self._index(*loaded)
        now = self.context.clock()
        for case_id, due in list(self.due.items()):
            if due < now:
                del self.due[case_id]
                await self.ticker.tick(case_id, case_id)

    async def on_tick(self, record: Incoming) -> None:
        value = (record.value or b"").decode()
        if value.startswith(LEAD):
            case_id = (record.key or b"").decode()
            await self._add_lead(case_id, ColdCaseLead.model_validate_json(value[len(LEAD):]))
            return
        case_id = value
        loaded = self._load(case_id)
        if loaded is None:
            return
        report, cold = loaded
        now = self.context.clock()
        if cold is None:
            entered_at = enters_ledger_at(report, self.rules)
            if entered_at is not None and entered_at < now:
                entry = enter_ledger(report, self.rules, now)
                await self._store(report, entry, f"{case_id}:entered")
            return
        if cold.closed or cold.reviewOverdue or cold.nextReviewDue >= now:
            return
        await self.alerts.send(overdue_alert(cold, self.rules, now))
        overdue = cold.model_copy(update={"reviewOverdue": True, "updatedAt": now})
        await self._store(report, overdue, f"{case_id}:overdue:{cold.nextReviewDue.isoformat()}")
