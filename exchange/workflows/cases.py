"""Sighting <-> missing-person matching: open cases in a table, each new sighting compared.

Every ``MissingPersonReport`` on ``exchange.missing-person`` updates a *global* table of open
cases (a later report of a case supersedes the earlier one; a closed case leaves the table). A
global table, because a sighting (keyed by sighting id) must be compared with every open case
(keyed by case id), whichever partition holds them. Each sighting on ``exchange.sighting`` is
scored against the open cases (:mod:`exchange.workflows.matching`); a candidate at or above the
threshold goes, as a ``CandidateMatch`` with its score and reasons, to the match inbox of the
police agency that owns the case (``exchange.match.to.<agency>``).
"""

from __future__ import annotations

import time

import faust

from exchange.codec import DecodedEvent
from exchange.models.events import MissingPersonReport, MissingPersonStatus, TransportSighting
from exchange.models.workflow_events import CandidateMatch, MatchFactor
from exchange.workflows.matching import MatchCandidate, match_sighting
from exchange.workflows.runtime import Incoming, Streams, Workflow, WorkflowContext

CASES_TOPIC = "exchange.missing-person"
REFRESH_S = 1.0  # longest a worker goes without re-reading the open cases
SIGHTINGS_TOPIC = "exchange.sighting"


def candidate_match(
    candidate: MatchCandidate, case: MissingPersonReport, sighting: TransportSighting,
    context: WorkflowContext,
) -> CandidateMatch:
    return CandidateMatch(
        matchId=f"{candidate.sighting_id}~{candidate.case_id}",
        caseId=candidate.case_id,
        sightingId=candidate.sighting_id,
        personIndex=candidate.person_index,
        score=round(candidate.score, 3),
        factors=tuple(
            MatchFactor(factor=r.factor, score=round(r.score, 3), detail=r.detail)
            for r in candidate.reasons
        ),
        owner=case.reportingUnit,
        sightingLocation=sighting.location,
        observedAt=sighting.observedAt,
        matchedAt=context.clock(),
    )


def register() -> Workflow:
    """The workflow registration for :func:`exchange.workflows.runtime.create_app`."""

    def add_to(app: faust.App, context: WorkflowContext, streams: Streams) -> None:
        _MatchingWorkflow(context, streams)

    return add_to


class _MatchingWorkflow:
    def __init__(self, context: WorkflowContext, streams: Streams) -> None:
        self.context = context
        self.open_cases = streams.table("open-cases", CASES_TOPIC, global_=True)
        self.parsed: dict[str, tuple[bytes, MissingPersonReport]] = {}
        self.view: dict[str, MissingPersonReport] = {}
        self.dirty = True
        self.refreshed = 0.0
        self.inboxes = {
            t.addressed_to: streams.raw_topic(t.name)
            for t in context.topology.topics
            if t.name.startswith("exchange.match.to.") and t.addressed_to
        }
        streams.on(CASES_TOPIC, self.on_report)
        streams.on(SIGHTINGS_TOPIC, self.on_sighting)

    async def on_report(self, decoded: DecodedEvent, record: Incoming) -> None:
        report = decoded.event
        if not isinstance(report, MissingPersonReport):
            raise TypeError(f"{CASES_TOPIC} carries MissingPersonReport, not {type(report)}")
        if report.status is MissingPersonStatus.OPEN:
            self.open_cases[report.caseId] = report.model_dump_json().encode()
        elif self.open_cases.get(report.caseId) is not None:
            del self.open_cases[report.caseId]
        self.dirty = True

    def current_cases(self) -> dict[str, MissingPersonReport]:
        """The open cases, each parsed once.

        Reading the whole (RocksDB) table for every sighting costs more than matching, so the
        view is re-read at most every :data:`REFRESH_S` seconds, or at once after this worker
        changed the table. A global table also changes through its changelog when another
        worker handles a report: such a case is seen here within a second.
        """
        now = time.monotonic()
        if not self.dirty and now - self.refreshed < REFRESH_S:
            return self.view
        self.dirty, self.refreshed = False, now
        cases: dict[str, MissingPersonReport] = {}
        for case_id, raw in list(self.open_cases.items()):
            if raw is None:
                continue
            cached = self.parsed.get(case_id)
            if cached is None or cached[0] != raw:
                cached = self.parsed[case_id] = (raw, MissingPersonReport.model_validate_json(raw))
            cases[case_id] = cached[1]
        for gone in self.parsed.keys() - cases.keys():
            del self.parsed[gone]
        self.view = cases
        return cases

    async def on_sighting(self, decoded: DecodedEvent, record: Incoming) -> None:
        sighting = decoded.event
        if not isinstance(sighting, TransportSighting):
            raise TypeError(f"{SIGHTINGS_TOPIC} carries TransportSighting, not {type(sighting)}")
        cases = self.current_cases()
        if not cases:
            return
        context = self.context
        for candidate in match_sighting(sighting, cases.values()):
            case = cases[candidate.case_id]
            inbox = self.inboxes.get(case.reportingUnit.agencyId)
            if inbox is None:
                raise LookupError(f"no match inbox for {case.reportingUnit.agencyId!r}")
            match = candidate_match(candidate, case, sighting, context)
            encoded = context.codec.encode(
                match, source=f"{context.source}/matching", id=match.matchId
            )
            await inbox.send(key=encoded.key, value=encoded.value, headers=encoded.headers)
            context.metrics.matches.labels(case.reportingUnit.agencyId).inc()
