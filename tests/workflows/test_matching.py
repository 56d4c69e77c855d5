"""The matching workflow's handling of a new case with test doubles for faust and the broker
(pure logic): the earlier sightings are scored against the case, and a failed read-back is
counted, not raised. (Against the real broker: ``test_worker_broker.py``,
``test_lookback_broker.py``.)"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError
from prometheus_client import CollectorRegistry

from exchange.codec import EventCodec
from exchange.examples.core import example_missing_person_report, example_transport_sighting
from exchange.models.missing_persons import CandidateMatch
from exchange.topology.loader import load_topology
from exchange.workflows import matching as cases
from exchange.workflows.runtime import Incoming, WorkflowContext, WorkflowMetrics


class FakeStreams:
    """Records what the workflow registers and publishes; tables are dicts."""

    def __init__(self, context: WorkflowContext) -> None:
        self.context = context
        self.sent: list[tuple[str, bytes | None, list[tuple[str, bytes]]]] = []

    def table(self, name: str, source: str, *, global_: bool = False) -> dict[str, bytes]:
        return {}

    def inboxes(self, prefix: str) -> dict[str, str]:
        return {a: f"{prefix}{a}" for a in ("police", "railway-police")}

    def on(self, topic: str, handler: Any, *, dedupes: bool = False) -> None:
        pass

    async def emit(self, event: Any, *topics: str, id: str, source: str) -> None:
        for topic in topics:
            encoded = self.context.encoder.encode(event, topic=topic, source=source, id=id)
            self.sent.append((topic, encoded.value, list(encoded.headers)))


class FakeLog:
    """Yields the given records, then fails if told to (the broker gone mid-read)."""

    def __init__(self, records: list[Incoming], *, fail: bool = False) -> None:
        self.records, self.fail = records, fail
        self.started: list[datetime] = []

    async def since(self, start: datetime) -> AsyncGenerator[Incoming, None]:
        self.started.append(start)
        for record in self.records:
            yield record
        if self.fail:
            raise KafkaConnectionError("broker gone")


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def context(codec: EventCodec, registry: CollectorRegistry) -> WorkflowContext:
    return WorkflowContext(codec=codec, topology=load_topology(),
                           metrics=WorkflowMetrics(registry))


def lookbacks(registry: CollectorRegistry, outcome: str) -> float | None:
    return registry.get_sample_value("exchange_case_lookbacks_total", {"outcome": outcome})


def record_of(codec: EventCodec, event: Any, offset: int, topic: str) -> Incoming:
    encoded = codec.encode(event, source="/agencies/test", id=f"id-{offset}")
    return Incoming(topic, 0, offset, encoded.key, encoded.value, list(encoded.headers))


def workflow_with(log: FakeLog, context: WorkflowContext) -> tuple[FakeStreams, Any]:
    streams = FakeStreams(context)
    workflow = cases.MatchingWorkflow(None, context, streams, log)  # type: ignore[arg-type]
    return streams, workflow


def matching_pair() -> tuple[Any, Any]:
    report = example_missing_person_report()
    person = report.missingPerson
    description = person.description.model_copy(update={
        "ageYears": 5, "gender": "MALE", "clothing": "red T-shirt, blue shorts"})
    report = report.model_copy(update={
        "missingPerson": person.model_copy(update={"description": description,
                                                   "birthDate": None, "documents": ()}),
        "lastSeenAt": example_transport_sighting().observedAt - timedelta(minutes=80),
    })
    return report, example_transport_sighting()


async def test_a_new_case_is_scored_against_the_sightings_read_back(
    codec: EventCodec, context: WorkflowContext, registry: CollectorRegistry
) -> None:
    report, sighting = matching_pair()
    log = FakeLog([
        record_of(codec, sighting, 1, cases.SIGHTINGS_TOPIC),
        Incoming(cases.SIGHTINGS_TOPIC, 0, 2, b"k", b"not an event", []),  # dead-lettered once
    ])
    streams, workflow = workflow_with(log, context)
    record = record_of(codec, report, 0, cases.CASES_TOPIC)
    decoded = codec.decode(record.value, record.headers)
    await workflow.on_report(decoded, record)

    assert log.started == [report.lastSeenAt]
    [(topic, value, headers)] = streams.sent
    assert topic == f"exchange.match.to.{report.reportingUnit.agencyId}"
    match = codec.decode(value, headers).event
    assert isinstance(match, CandidateMatch)
    assert (match.caseId, match.sightingId) == (report.caseId, sighting.sightingId)
    assert lookbacks(registry, "done") == 1

    # The same case again (an update while open): no second read-back.
    await workflow.on_report(decoded, record._replace(offset=3))
    assert len(log.started) == 1


async def test_a_failed_read_back_is_counted_not_raised(
    codec: EventCodec, context: WorkflowContext, registry: CollectorRegistry
) -> None:
    report, sighting = matching_pair()
    log = FakeLog([record_of(codec, sighting, 1, cases.SIGHTINGS_TOPIC)], fail=True)
    streams, workflow = workflow_with(log, context)
    record = record_of(codec, report, 0, cases.CASES_TOPIC)
    await workflow.on_report(codec.decode(record.value, record.headers), record)

    assert len(streams.sent) == 1  # what was read before the failure was matched
    assert workflow.open_cases[report.caseId]  # the case is open all the same
    assert lookbacks(registry, "failed") == 1
    assert not lookbacks(registry, "done")
