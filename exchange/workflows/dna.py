"""The DNA hand-off (Art. 8, 9): candidate kinship matches verified by the police units owning
the cases they link, and a confirmed match closing the missing-person case.

The bus carries sample identifiers, never genetic data. On ``exchange.dna`` (keyed by sample
id) the police record each ``DnaSampleCollected`` (with the case and the unit owning it) and
each ``DnaComparisonRequest`` (which the laboratory connector takes); the laboratory answers on
``exchange.dna-result`` with a ``DnaComparisonResult``. A candidate match involves two samples,
which may sit on any partition, so the samples, the verifications and the open missing-person
reports (read from ``exchange.missing-person``) are kept in global tables.

A candidate match opens a ``KinshipVerification`` (status OPEN, deadline of
``topology/dna_rules.toml``) sent to ``exchange.dna-match.to.<agency>`` of every agency owning
one of the linked cases. One of them decides on ``exchange.dna-verification``
(``KinshipVerificationDecision``); the new state goes to the same inboxes, and a confirmed match
publishes the linked missing-person report again with status FOUND on
``exchange.missing-person``, so the alert workflow cancels the public alert, and (by the
``[referral_plan]`` of the rules, :mod:`exchange.rules.found_child`) a ``Rescue`` of the found
child on ``exchange.rescue``, where the referral workflow plans its referrals (civil affairs,
health, education...). The found child's place comes from its unknown-origin report (read from
``exchange.unknown-origin-child`` into a global table). A verification
not decided in time is escalated once (``ComplianceAlert`` to the owners and the joint-meeting
office). A result naming a sample not read yet waits for it (the topics are read in no set
order); a decision from an agency owning neither case is dead-lettered with its rule.
"""

from __future__ import annotations

import json
from typing import Any

import faust

from exchange.codec import DecodedEvent
from exchange.models.dna import (
    DnaComparisonOutcome,
    DnaComparisonRequest,
    DnaComparisonResult,
    DnaSampleCollected,
    KinshipVerification,
    KinshipVerificationDecision,
    KinshipVerificationStatus,
)
from exchange.models.missing_persons import MissingPersonReport
from exchange.models.unknown_origin import UnknownOriginChild
from exchange.rules.dna import (
    DnaRules,
    closing_report,
    decide,
    open_verification,
    overdue_alert,
    owners,
)
from exchange.rules.found_child import found_child_case, found_child_rescue
from exchange.workflows.compliance import ComplianceSender
from exchange.workflows.runtime import Incoming, Streams, WorkflowContext

DNA_TOPIC = "exchange.dna"
RESULT_TOPIC = "exchange.dna-result"
DECISION_TOPIC = "exchange.dna-verification"
MISSING_TOPIC = "exchange.missing-person"
UNKNOWN_ORIGIN_TOPIC = "exchange.unknown-origin-child"
RESCUE_TOPIC = "exchange.rescue"
INBOX_PREFIX = "exchange.dna-match.to."
SOURCE = "dna"
ESCALATED = b"escalated"


class DnaWorkflow:
    """Handlers, global tables and ticker of the DNA hand-off."""

    def __init__(
        self, app: faust.App, context: WorkflowContext, streams: Streams, *, rules: DnaRules
    ) -> None:
        self.context = context
        self.rules = rules
        self.streams = streams
        self.samples = streams.table("dna-samples", DNA_TOPIC, global_=True)
        self.verifications = streams.table("dna-verifications", DNA_TOPIC, global_=True)
        self.escalated = streams.table("dna-escalated", DNA_TOPIC, global_=True)
        self.missing = streams.table("dna-missing-cases", MISSING_TOPIC, global_=True)
        self.pending = streams.table("dna-pending-results", DNA_TOPIC, global_=True)
        self.inboxes = streams.inboxes(INBOX_PREFIX)
        self.unknown_origin = streams.table("dna-unknown-origin", UNKNOWN_ORIGIN_TOPIC,
                                            global_=True)
        #: confirmed verifications whose rescue waits for the report it needs, by that report
        #: ("missing:<caseId>" or "found:<reportId>"): topics are read in no set order
        self.pending_rescues = streams.table("dna-pending-rescues", DNA_TOPIC, global_=True)
        self.missing_topic = streams.raw_topic(MISSING_TOPIC)
        self.rescue_topic = streams.raw_topic(RESCUE_TOPIC)
        self.ticked: set[str] = set()  # asked this process's tick agent already
        self.alerts = ComplianceSender(streams, context, SOURCE)
        streams.on(DNA_TOPIC, self.on_dna)
        streams.on(RESULT_TOPIC, self.on_result)
        streams.on(DECISION_TOPIC, self.on_decision)
        streams.on(MISSING_TOPIC, self.on_missing)
        streams.on(UNKNOWN_ORIGIN_TOPIC, self.on_unknown_origin)
        self.ticker = streams.ticker("dna", source=DNA_TOPIC, scan=self.scan, on_tick=self.on_tick)

    async def on_missing(self, decoded: DecodedEvent, record: Incoming) -> None:
        report = decoded.event
        if isinstance(report, MissingPersonReport):
            self.missing[report.caseId] = report.model_dump_json().encode()
            await self._rescues_waiting_for(f"missing:{report.caseId}")

    async def on_unknown_origin(self, decoded: DecodedEvent, record: Incoming) -> None:
        child = decoded.event
        if isinstance(child, UnknownOriginChild):
            self.unknown_origin[child.reportId] = child.model_dump_json().encode()
            await self._rescues_waiting_for(f"found:{child.reportId}")

    async def _rescues_waiting_for(self, waiting_key: str) -> None:
        waiting = self.pending_rescues.get(waiting_key)
        if waiting is not None:
            for raw in json.loads(waiting):  # sent before the list goes: a crash repeats them
                await self._rescue(KinshipVerification.model_validate_json(raw))
            del self.pending_rescues[waiting_key]

    async def on_dna(self, decoded: DecodedEvent, record: Incoming) -> None:
        event = decoded.event
        if isinstance(event, DnaComparisonRequest):
            return  # for the laboratory connector
        if not isinstance(event, DnaSampleCollected):
            raise TypeError(f"{DNA_TOPIC} carries DnaSampleCollected, not {type(event)}")
        self.samples[event.sampleId] = event.model_dump_json().encode()
        waiting = self.pending.get(event.sampleId)
        if waiting is not None:
            for raw in json.loads(waiting):  # opened before the list goes: a crash repeats them
                await self._open(DnaComparisonResult.model_validate_json(raw))
            del self.pending[event.sampleId]

    def _sample(self, sample_id: str) -> DnaSampleCollected | None:
        raw = self.samples.get(sample_id)
        return None if raw is None else DnaSampleCollected.model_validate_json(raw)

    async def _publish(self, verification: KinshipVerification) -> None:
        """Send ``verification`` to its owners' inboxes; the caller records it after every
        output it owes is sent (:meth:`_record`): a crash before that repeats them all."""
        inboxes = []
        for agency in owners(verification):
            inbox = self.inboxes.get(agency)
            if inbox is None:
                raise LookupError(f"no DNA match inbox for {agency!r}")
            inboxes.append(inbox)
        ident = f"{verification.verificationId}:{verification.status.value}"
        await self.streams.emit(verification, *inboxes, id=ident, source=SOURCE, confirmed=True)

    def _record(self, verification: KinshipVerification) -> None:
        self.verifications[verification.verificationId] = verification.model_dump_json().encode()

    async def on_result(self, decoded: DecodedEvent, record: Incoming) -> None:
        result = decoded.event
        if not isinstance(result, DnaComparisonResult):
            raise TypeError(f"{RESULT_TOPIC} carries DnaComparisonResult, not {type(result)}")
        if result.outcome is DnaComparisonOutcome.NO_MATCH:
            return
        await self._open(result)

    async def _open(self, result: DnaComparisonResult) -> None:
        """Open the verification of ``result``; a result naming a sample not yet read (topics
        are read in no set order, e.g. after downtime) waits for it in ``pending``."""
        if self.verifications.get(result.resultId) is not None:
            return  # opened before (the same result again)
        sample = self._sample(result.sampleId)
        matched = self._sample(result.matchedSampleId or "")
        if sample is None or matched is None:
            missing = result.sampleId if sample is None else result.matchedSampleId or ""
            _wait(self.pending, missing, result.model_dump_json())
            return
        now = self.context.clock()
        opened = open_verification(
            result, sample, matched, self.rules, now, time_scale=self.context.time_scale
        )
        await self._publish(opened)
        self._record(opened)

    async def on_decision(self, decoded: DecodedEvent, record: Incoming) -> None:
        decision = decoded.event
        if not isinstance(decision, KinshipVerificationDecision):
            raise TypeError(f"{DECISION_TOPIC} carries KinshipVerificationDecision")
        raw = self.verifications.get(decision.verificationId)
        if raw is None:
            raise LookupError(
                f"verificationId: unknown verification {decision.verificationId!r} "
                "[dna-verification-known]"
            )
        decided = decide(KinshipVerification.model_validate_json(raw), decision)
        if decided is None:
            return
        await self._publish(decided)
        if decided.status is KinshipVerificationStatus.CONFIRMED:
            for case_id in (decided.caseId, decided.matchedCaseId):
                await self._close(case_id, decided)
            await self._rescue(decided)
        self._record(decided)  # last: until then a replay decides again and repeats them

    async def _close(self, case_id: str, verification: KinshipVerification) -> None:
        raw = self.missing.get(case_id)
        if raw is None:
            return  # not a missing-person case (an unknown-origin report, an infant case)
        report = MissingPersonReport.model_validate_json(raw)
        closing = closing_report(report, verification, self.rules, self.context.clock())
        if closing is not None:
            ident = f"{verification.verificationId}:close:{case_id}"
            await self.streams.emit(
                closing, self.missing_topic, id=ident, source=SOURCE, confirmed=True
            )

    async def _rescue(self, verification: KinshipVerification) -> None:
        """Start the found child's referral plan (a Rescue), when the rules say so."""
        found_case = found_child_case(verification, self.rules)
        if found_case is None:
            return
        other = verification.matchedCaseId if found_case == verification.caseId else (
            verification.caseId)  # fmt: skip
        raw_report, raw_found = self.missing.get(other), self.unknown_origin.get(found_case)
        if raw_report is None or raw_found is None:  # not read yet: wait for it
            waiting_key = f"missing:{other}" if raw_report is None else f"found:{found_case}"
            _wait(self.pending_rescues, waiting_key, verification.model_dump_json())
            return
        rescue = found_child_rescue(
            verification, MissingPersonReport.model_validate_json(raw_report),
            UnknownOriginChild.model_validate_json(raw_found), self.rules, self.context.clock(),
        )  # fmt: skip
        if rescue is not None:
            ident = f"{verification.verificationId}:rescue"
            await self.streams.emit(
                rescue, self.rescue_topic, id=ident, source=SOURCE, confirmed=True
            )

    async def scan(self) -> None:
        """Tick each open verification past its due time, once."""
        now = self.context.clock()
        for ident, raw in list(self.verifications.items()):
            if raw is None or ident in self.ticked or self.escalated.get(ident) is not None:
                continue
            verification = KinshipVerification.model_validate_json(raw)
            if (verification.status is KinshipVerificationStatus.OPEN
                    and verification.verifyDueAt < now):  # fmt: skip
                self.ticked.add(ident)
                await self.ticker.tick(verification.sampleId, ident)

    async def on_tick(self, record: Incoming) -> None:
        ident = (record.value or b"").decode()
        raw = self.verifications.get(ident)
        if raw is None or self.escalated.get(ident) is not None:
            return
        verification = KinshipVerification.model_validate_json(raw)
        now = self.context.clock()
        if verification.status is not KinshipVerificationStatus.OPEN or (
            verification.verifyDueAt >= now
        ):
            return
        await self.alerts.send(overdue_alert(verification, self.rules, now))
        self.escalated[ident] = ESCALATED


def _wait(table: Any, key: str, raw: str) -> None:
    """Add ``raw`` (once) to the JSON list of what waits in ``table`` for ``key`` to be read."""
    waiting = json.loads(table.get(key) or b"[]")
    if raw not in waiting:
        waiting.append(raw)
        table[key] = json.dumps(waiting).encode()
