"""One chief, three responsibilities (Art. 8, 一长三包责任制): each child-trafficking case's
answerable chief and the state of solving it, rescuing the child and settling the aftermath.

A missing-minor report (``exchange.missing-person``, keyed by case id) assigns the case's chief
and three duties (:func:`exchange.rules.chief_responsibility.assign`). Events that work on or
fulfil a duty become its evidence, as ``topology/chief_responsibility_rules.toml`` says: a
sighting matched to the case (``exchange.match.to.<agency>``), a rescue naming it
(``exchange.rescue``, keyed by case id), the case closed as FOUND, and the unit's own record
(``ChiefDutyReport`` on ``exchange.chief-duty-report``; one the rules refuse is dead-lettered
with its rule) are read on the case's partition; a tip naming the case
(``exchange.tip.to.<agency>``), a DNA comparison of its sample (``exchange.dna``) and each step
of a kinship match linking it (``exchange.dna-match.to.<agency>``) are keyed otherwise and are
sent on through the ticker's topic keyed by the case id. Evidence read before the case's report
waits in the case's table entry. Each change is published on ``exchange.chief-responsibility``
(compacted, the latest per case id), which the yearly report counts per unit.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import faust

from exchange.codec import DecodedEvent
from exchange.models.chief_responsibility import (
    ChiefDutyEvidence,
    ChiefDutyKind,
    ChiefDutyReport,
    ChiefResponsibility,
)
from exchange.models.dna import DnaComparisonRequest, KinshipVerification
from exchange.models.missing_persons import CandidateMatch, MissingPersonReport
from exchange.models.referrals import Rescue
from exchange.models.tips import TipDispatch
from exchange.rules.chief_responsibility import (
    ChiefRules,
    Evidence,
    add_evidence,
    assign,
    evidence_of,
    record_duty,
    with_report,
)
from exchange.workflows.runtime import Incoming, Streams, WorkflowContext

MISSING_TOPIC = "exchange.missing-person"
RESCUE_TOPIC = "exchange.rescue"
RECORD_TOPIC = "exchange.chief-duty-report"
OUTPUT_TOPIC = "exchange.chief-responsibility"
MATCH_PREFIX = "exchange.match.to."
KEYED_ELSEWHERE = ("exchange.tip.to.", "exchange.dna-match.to.")
DNA_TOPIC = "exchange.dna"
SOURCE = "chief-responsibility"


def output_id(case_id: str, what: str) -> str:
    """The ``ce_id`` of the entry written for ``what`` (the same on a replay)."""
    ident = f"{case_id}:{what}"
    return ident if len(ident) <= 64 else f"CR-{hashlib.sha256(ident.encode()).hexdigest()[:32]}"


def _evidence_json(evidence: Evidence) -> str:
    return json.dumps({
        "case": evidence.case_id, "duty": evidence.duty.value if evidence.duty else None,
        "item": evidence.item.model_dump(mode="json"),
    })  # fmt: skip


def _evidence(raw: dict[str, Any]) -> Evidence:
    duty = raw.get("duty")
    return Evidence(raw["case"], ChiefDutyEvidence.model_validate(raw["item"]),
                    ChiefDutyKind(duty) if duty else None)  # fmt: skip


class ChiefResponsibilityWorkflow:
    """Handlers, table and re-keying ticker of the chief's responsibilities."""

    def __init__(
        self, app: faust.App, context: WorkflowContext, streams: Streams, *, rules: ChiefRules,
    ) -> None:
        topology = context.topology
        matches = [t.name for t in topology.topics if t.name.startswith(MATCH_PREFIX)]
        streams.require_co_partitioned(MISSING_TOPIC, RESCUE_TOPIC, RECORD_TOPIC, *matches)
        self.context = context
        self.rules = rules
        self.streams = streams
        self.cases = streams.table("chief-responsibility", MISSING_TOPIC)
        self.output = streams.raw_topic(OUTPUT_TOPIC)
        streams.on(MISSING_TOPIC, self.on_report)
        streams.on(RESCUE_TOPIC, self.on_case_keyed)
        streams.on(RECORD_TOPIC, self.on_record)
        for name in matches:
            streams.on(name, self.on_case_keyed)
        for topic in topology.topics:
            if topic.name.startswith(KEYED_ELSEWHERE):
                streams.on(topic.name, self.on_keyed_elsewhere)
        streams.on(DNA_TOPIC, self.on_keyed_elsewhere)
        self.ticker = streams.ticker(
            "chief-duty", source=MISSING_TOPIC, scan=self._no_deadlines, on_tick=self.on_tick
        )

    async def _no_deadlines(self) -> None:
        """The ticker only re-keys evidence here; no duty has a deadline of its own."""

    def _load(self, case_id: str) -> tuple[ChiefResponsibility | None, list[Evidence]]:
        raw = self.cases.get(case_id)
        if raw is None:
            return None, []
        entry = json.loads(raw)
        if entry.get("notChild"):
            return None, []
        case = entry.get("case")
        pending = [_evidence(e) for e in entry.get("pending", [])]
        return (ChiefResponsibility.model_validate(case) if case else None), pending

    async def _store(self, case_id: str, case: ChiefResponsibility | None,
                     pending: list[Evidence], publish: str | None) -> None:  # fmt: skip
        if publish is not None and case is not None:  # first: a crash before the write
            await self.streams.emit(  # repeats it; confirmed, as the write records it
                case, self.output, id=output_id(case_id, publish), source=SOURCE,
                confirmed=True,
            )
        self.cases[case_id] = json.dumps({
            "case": case.model_dump(mode="json") if case else None,
            "pending": [json.loads(_evidence_json(e)) for e in pending],
        }).encode()  # fmt: skip

    def _apply_all(self, case: ChiefResponsibility,
                   evidence: list[Evidence]) -> ChiefResponsibility | None:  # fmt: skip
        changed = None
        for item in evidence:
            moved = add_evidence(changed or case, item, self.rules)
            changed = moved or changed
        return changed

    async def on_report(self, decoded: DecodedEvent, record: Incoming) -> None:
        report = decoded.event
        if not isinstance(report, MissingPersonReport):
            raise TypeError(f"{MISSING_TOPIC} carries MissingPersonReport, not {type(report)}")
        case, pending = self._load(report.caseId)
        what = f"report:{report.status.value}:{report.reportedAt.isoformat()}"
        if case is None:
            assigned = assign(report, self.rules)
            if assigned is None:  # not a child-trafficking case: evidence for it is not kept
                self.cases[report.caseId] = json.dumps({"notChild": True}).encode()
                return
            case = self._apply_all(assigned, pending) or assigned
            case = self._apply_all(case, evidence_of(report)) or case
            await self._store(report.caseId, case, [], what)
            return
        updated = with_report(case, report)
        updated = self._apply_all(updated, evidence_of(report)) or updated
        if updated != case:
            await self._store(report.caseId, updated, [], what)

    async def _add(self, evidence: Evidence) -> None:
        raw = self.cases.get(evidence.case_id)
        if raw is not None and json.loads(raw).get("notChild"):
            return
        case, pending = self._load(evidence.case_id)
        if case is None:  # the case's report is not read yet
            kept = [e for e in pending if e.item.ref != evidence.item.ref
                    or e.item.kind is not evidence.item.kind]  # fmt: skip
            kept = [*kept, evidence][-self.rules.defaults.max_evidence:]
            self.cases[evidence.case_id] = json.dumps({
                "case": None, "pending": [json.loads(_evidence_json(e)) for e in kept],
            }).encode()  # fmt: skip
            return
        updated = add_evidence(case, evidence, self.rules)
        if updated is not None:
            what = f"{evidence.item.kind.value}:{evidence.item.ref}"
            await self._store(evidence.case_id, updated, [], what)

    async def on_case_keyed(self, decoded: DecodedEvent, record: Incoming) -> None:
        """Sighting matches and rescues: on the partition of the case they name."""
        event = decoded.event
        if isinstance(event, CandidateMatch | Rescue):
            for evidence in evidence_of(event):
                await self._add(evidence)

    async def on_record(self, decoded: DecodedEvent, record: Incoming) -> None:
        report = decoded.event
        if not isinstance(report, ChiefDutyReport):
            raise TypeError(f"{RECORD_TOPIC} carries ChiefDutyReport, not {type(report)}")
        case, _ = self._load(report.caseId)
        if case is None:
            raise LookupError(
                f"caseId: {report.caseId!r} is no child-trafficking case known to the "
                "workflows [chief-duty-case]"
            )
        updated = record_duty(case, report, self.rules)
        if updated is not None:
            await self._store(report.caseId, updated, [], f"record:{report.recordRef}")

    async def on_keyed_elsewhere(self, decoded: DecodedEvent, record: Incoming) -> None:
        """Tips and DNA comparisons naming cases: each to its case's partition."""
        event = decoded.event
        if isinstance(event, TipDispatch | DnaComparisonRequest | KinshipVerification):
            for evidence in evidence_of(event):
                await self.ticker.tick(evidence.case_id, _evidence_json(evidence))

    async def on_tick(self, record: Incoming) -> None:
        await self._add(_evidence(json.loads(record.value or b"{}")))
