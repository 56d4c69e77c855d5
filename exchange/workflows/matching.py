"""Sighting <-> missing-person matching: open cases in a table, each new sighting compared.

Every ``MissingPersonReport`` on ``exchange.missing-person`` updates a *global* table of open
cases (a later report of a case supersedes the earlier one; a closed case leaves the table). A
global table, because a sighting (keyed by sighting id) must be compared with every open case
(keyed by case id), whichever partition holds them. Each sighting on ``exchange.sighting`` is
scored against the open cases (:mod:`exchange.rules.matching`); a candidate at or above the
threshold goes, as a ``CandidateMatch`` with its score and reasons, to the match inbox of the
police agency that owns the case (``exchange.match.to.<agency>``).

A case reported after its sightings is matched too: when a case opens, the sightings published
since its last-seen time are read back from ``exchange.sighting``
(:mod:`exchange.workflows.lookback`) and scored against it, before the report counts as handled
(so a crash in between reads them back again: the case stays marked :data:`LOOKING_BACK`
in the table until its look-back returns). A sighting that came in while the case was being
opened may be matched both ways: the same ``matchId``, for the receiver to drop.
"""

from __future__ import annotations

import logging
import time
from contextlib import aclosing

import faust
from aiokafka.errors import KafkaError

from exchange.codec import DecodedEvent, DecodeError
from exchange.models.missing_persons import (
    CandidateMatch,
    MatchFactor,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.models.sightings import TransportSighting
from exchange.rules.matching import MatchCandidate, match_sighting
from exchange.workflows.lookback import SIGHTINGS_TOPIC, SightingLog
from exchange.workflows.runtime import Incoming, Streams, WorkflowContext

log = logging.getLogger(__name__)

CASES_TOPIC = "exchange.missing-person"
REFRESH_S = 1.0  # longest a worker goes without re-reading the open cases
LOOKING_BACK = b"~"
"""Prefix of an open case whose look-back has not finished (JSON never starts with it): a
replay after a crash finds it and looks back again, rather than taking the case as known."""


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


class MatchingWorkflow:
    """Handlers and table of the matching workflow; with ``earlier``, a new case is also
    compared with the sightings published since the person was last seen."""

    def __init__(
        self, app: faust.App, context: WorkflowContext, streams: Streams,
        earlier: SightingLog | None = None,
    ) -> None:
        self.context = context
        self.streams = streams
        self.earlier = earlier
        self.open_cases = streams.table("open-cases", CASES_TOPIC, global_=True)
        self.parsed: dict[str, tuple[bytes, MissingPersonReport]] = {}
        self.view: dict[str, MissingPersonReport] = {}
        self.dirty = True
        self.refreshed = 0.0
        self.inboxes = streams.inboxes("exchange.match.to.")
        streams.on(CASES_TOPIC, self.on_report)
        streams.on(SIGHTINGS_TOPIC, self.on_sighting)

    async def on_report(self, decoded: DecodedEvent, record: Incoming) -> None:
        report = decoded.event
        if not isinstance(report, MissingPersonReport):
            raise TypeError(f"{CASES_TOPIC} carries MissingPersonReport, not {type(report)}")
        stored = self.open_cases.get(report.caseId)
        known = stored is not None
        opened = report.status is MissingPersonStatus.OPEN
        looks_back = opened and self.earlier is not None and (
            not known or stored.startswith(LOOKING_BACK)  # a crash cut the last one short
        )
        value = report.model_dump_json().encode()
        if opened:
            self.open_cases[report.caseId] = LOOKING_BACK + value if looks_back else value
        elif known:
            del self.open_cases[report.caseId]
        self.dirty = True  # (live sightings see a new case while the earlier ones are read)
        if looks_back and self.earlier is not None:
            await self.look_back(report, self.earlier)
            self.open_cases[report.caseId] = value  # looked back: a replay does not again

    async def look_back(self, case: MissingPersonReport, earlier: SightingLog) -> None:
        """Score the sightings published since ``case`` was last seen against it.

        A failure to read them (the broker unreachable past the client's retries) is logged and
        counted, not raised: the case is open and its alert out, and the report must not go to
        the dead-letter topic for it."""
        compared = matched = 0
        try:
            async with aclosing(earlier.since(case.lastSeenAt)) as records:  # its consumer
                async for record in records:  # is stopped whatever happens here
                    sighting = self.peek(record)
                    if sighting is None:
                        continue  # dead-lettered or quarantined when it was first read
                    compared += 1
                    for candidate in match_sighting(sighting, [case]):
                        await self.send(candidate, case, sighting)
                        matched += 1
        except KafkaError:
            self.context.metrics.lookbacks.labels("failed").inc()
            log.exception("a new case was compared with %d earlier sightings, then reading "
                          "them back failed: the rest were not compared", compared)
            return
        self.context.metrics.lookbacks.labels("done").inc()
        log.info("a new case was compared with %d earlier sightings: %d candidate matches",
                 compared, matched)

    def peek(self, record: Incoming) -> TransportSighting | None:
        """The sighting of a record read back; None when it does not decode (or, protected,
        does not verify): such a record was dead-lettered or quarantined when first read."""
        context = self.context
        decoded: DecodedEvent | None
        if context.protection is not None:
            decoded = context.protection.peek(record)
        else:
            try:
                decoded = context.codec.decode_record(record.key, record.value, record.headers)
            except DecodeError:
                decoded = None
        event = decoded.event if decoded is not None else None
        return event if isinstance(event, TransportSighting) else None

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
                report = MissingPersonReport.model_validate_json(raw.removeprefix(LOOKING_BACK))
                cached = self.parsed[case_id] = (raw, report)
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
        for candidate in match_sighting(sighting, cases.values()):
            await self.send(candidate, cases[candidate.case_id], sighting)

    async def send(
        self, candidate: MatchCandidate, case: MissingPersonReport, sighting: TransportSighting
    ) -> None:
        context = self.context
        inbox = self.inboxes.get(case.reportingUnit.agencyId)
        if inbox is None:
            raise LookupError(f"no match inbox for {case.reportingUnit.agencyId!r}")
        match = candidate_match(candidate, case, sighting, context)
        await self.streams.emit(match, inbox, id=match.matchId, source="matching")
        context.metrics.matches.labels(case.reportingUnit.agencyId).inc()
