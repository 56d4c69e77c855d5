"""Abandoned infants (Art. 8): the police collect a DNA sample before a welfare institution
takes the child in; an intake that does not reference the sample raises a compliance alert.

Both steps are ``InfantCustodyEvent``s on ``exchange.infant-custody``, keyed by the infant's case
id, so a case's sample is always read before an intake published after it. A table
co-partitioned with the topic keeps each collected sample (key: case id and sample event id; a
case's steps share a partition, another case's samples may not). A WELFARE_INTAKE whose
``dnaSampleEventId`` is missing, or not a sample collected for the same case before it, raises
a ``ComplianceAlert`` (INFANT_WITHOUT_DNA_SAMPLE) to police and civil affairs.
"""

from __future__ import annotations

from datetime import datetime

import faust

from exchange.codec import DecodedEvent
from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert, ComplianceAlertKind
from exchange.models.infants import InfantCustodyEvent, InfantCustodyStep
from exchange.workflows.compliance import ComplianceSender, short_id
from exchange.workflows.runtime import Incoming, Streams, WorkflowContext

TOPIC = "exchange.infant-custody"
ALERTED = (AgencyRef(agencyId="police"), AgencyRef(agencyId="civil-affairs"))


def sample_key(case_id: str, sample_event_id: str) -> str:
    return f"{case_id}\x1f{sample_event_id}"


def missing_sample(
    intake: InfantCustodyEvent, collected: bool, now: datetime
) -> ComplianceAlert | None:
    """The alert for ``intake``, given whether the sample it names was collected for its case
    before it; None when the intake is in order."""
    named = intake.dnaSampleEventId
    if named is not None and collected:
        return None
    if named is None:
        problem = "names no DNA sample"
    else:
        problem = f"names DNA sample {named}, not one collected for this case before the intake"
    return ComplianceAlert(
        alertId=short_id(f"{intake.eventId}:no-dna"),
        kind=ComplianceAlertKind.INFANT_WITHOUT_DNA_SAMPLE, subject=intake.eventId,
        caseId=intake.caseId, addressedTo=ALERTED, rule="infant-dna-before-intake",
        reason=f"welfare intake {intake.eventId} of case {intake.caseId} by "
        f"{intake.unit.unitId or intake.unit.agencyId} {problem}; police must collect a DNA "
        "sample before a welfare institution takes an abandoned infant in "
        "(西安市反拐实施细则 第八条, Art. 8)",
        raisedAt=now,
    )  # fmt: skip


class InfantWorkflow:
    """Handler and table of the abandoned-infant workflow."""

    def __init__(self, app: faust.App, context: WorkflowContext, streams: Streams) -> None:
        self.context = context
        self.metrics = context.metrics
        self.samples = streams.table("infant-dna-samples", TOPIC)
        self.alerts = ComplianceSender(streams, context, "infants")
        streams.on(TOPIC, self.on_step)

    async def on_step(self, decoded: DecodedEvent, record: Incoming) -> None:
        step = decoded.event
        if not isinstance(step, InfantCustodyEvent):
            raise TypeError(f"{TOPIC} carries InfantCustodyEvent")
        if step.step is InfantCustodyStep.DNA_SAMPLE_COLLECTED:
            self.samples[sample_key(step.caseId, step.eventId)] = step.at.isoformat().encode()
            return
        named = step.dnaSampleEventId
        collected = named is not None and self.samples.get(sample_key(step.caseId, named))
        alert = missing_sample(step, bool(collected), self.context.clock())
        if alert is not None:
            await self.alerts.send(alert)
            self.metrics.compliance_alerts.labels(alert.kind.value).inc()
