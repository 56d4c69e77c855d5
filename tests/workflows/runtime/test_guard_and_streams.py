"""The runtime's Guard and Streams.emit on doubles of faust's app, topics and events (pure
logic; the same pieces run against the real broker in tests/workflows/test_*_broker.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from exchange.codec import DecodedEvent, EventCodec
from exchange.examples import example
from exchange.topology.loader import load_topology
from exchange.workflows.runtime import Guard, Incoming, Outcome, Streams, WorkflowContext
from exchange.workflows.runtime.guard import TableDedupe
from exchange.workflows.runtime.metrics import WorkflowMetrics


@dataclass
class FakeTopic:
    name: str
    sent: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = field(
        default_factory=list
    )

    def get_topic_name(self) -> str:
        return self.name

    async def send(self, *, key: bytes | None, value: bytes | None,
                   headers: list[tuple[str, bytes]], force: bool) -> asyncio.Future[Any]:
        self.sent.append((key, value, headers))
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


@dataclass
class FakeConf:
    id: str = "workflows.test"


class FakeApp:
    def __init__(self) -> None:
        self.conf = FakeConf()
        self.topics: dict[str, FakeTopic] = {}

    def topic(self, name: str, **_: Any) -> FakeTopic:
        return self.topics.setdefault(name, FakeTopic(name))


@dataclass
class FakeMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


@dataclass
class FakeEvent:
    message: FakeMessage


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def context(codec: EventCodec, registry: CollectorRegistry) -> WorkflowContext:
    return WorkflowContext(codec=codec, topology=load_topology(), metrics=WorkflowMetrics(registry))


def event_of(codec: EventCodec, offset: int = 0, event_id: str = "s-1") -> FakeEvent:
    encoded = codec.encode(example("transport-sighting"), source="/agencies/transport",
                           id=event_id)
    return FakeEvent(FakeMessage("exchange.sighting", 0, offset, encoded.key, encoded.value,
                                 list(encoded.headers)))


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_a_handler_that_recognises_a_duplicate_stops_the_others(
    codec: EventCodec, context: WorkflowContext, registry: CollectorRegistry
) -> None:
    app = FakeApp()
    guard = Guard(app, context)  # type: ignore[arg-type]
    seen: list[str] = []

    async def owner(decoded: DecodedEvent, record: Incoming) -> Outcome | None:
        seen.append("owner")
        return Outcome.DUPLICATE if record.offset > 0 else None

    async def other(decoded: DecodedEvent, record: Incoming) -> None:
        seen.append("other")

    await guard(event_of(codec, 0), [owner, other])  # type: ignore[arg-type]
    await guard(event_of(codec, 1), [owner, other])  # type: ignore[arg-type]
    assert seen == ["owner", "other", "owner"]
    assert sample(registry, "exchange_workflow_duplicates_total",
                  topic="exchange.sighting") == 1
    assert sample(registry, "exchange_events_consumed_total", topic="exchange.sighting",
                  type="exchange.events.TransportSighting", agency="workflows") == 1


async def test_a_failing_handler_dead_letters_the_event_once_and_the_others_still_run(
    codec: EventCodec, context: WorkflowContext
) -> None:
    app = FakeApp()
    guard = Guard(app, context)  # type: ignore[arg-type]
    ran: list[str] = []

    async def broken(decoded: DecodedEvent, record: Incoming) -> None:
        raise ValueError("field: rule")

    async def fine(decoded: DecodedEvent, record: Incoming) -> None:
        ran.append("fine")

    await guard(event_of(codec), [broken, broken, fine])  # type: ignore[arg-type]
    assert ran == ["fine"]
    [(_, _, headers)] = app.topics[context.deadletter_topic].sent
    assert dict(headers)["exchange.error.reason"] == b"handler-error"


async def test_undecodable_records_are_dead_lettered_and_no_handler_runs(
    context: WorkflowContext,
) -> None:
    app = FakeApp()
    guard = Guard(app, context)  # type: ignore[arg-type]
    ran: list[str] = []

    async def handler(decoded: DecodedEvent, record: Incoming) -> None:
        ran.append("ran")

    poison = FakeEvent(FakeMessage("exchange.sighting", 0, 0, b"k", b"garbage", []))
    await guard(poison, [handler])  # type: ignore[arg-type]
    assert ran == []
    assert len(app.topics[context.deadletter_topic].sent) == 1


async def test_a_table_dedupe_skips_what_was_handled(
    codec: EventCodec, context: WorkflowContext
) -> None:
    app = FakeApp()
    guard = Guard(app, context, TableDedupe({}))  # type: ignore[arg-type]
    ran: list[int] = []

    async def handler(decoded: DecodedEvent, record: Incoming) -> None:
        ran.append(record.offset)

    await guard(event_of(codec, 0), [handler])  # type: ignore[arg-type]
    await guard(event_of(codec, 5), [handler])  # type: ignore[arg-type]  # same ce_id
    await guard(event_of(codec, 6, event_id="s-2"), [handler])  # type: ignore[arg-type]
    assert ran == [0, 6]


async def test_emit_encodes_once_for_every_topic_when_plain(
    context: WorkflowContext,
) -> None:
    app = FakeApp()
    streams = Streams(app, context)  # type: ignore[arg-type]
    one, two = FakeTopic("exchange.public-alert"), FakeTopic("exchange.alert.to.transport")
    alert = example("emergency-alert")
    await streams.emit(alert, one, two, id="A-1", source="alerts")
    [(key_1, value_1, headers_1)] = one.sent
    [(key_2, value_2, headers_2)] = two.sent
    assert (key_1, value_1, headers_1) == (key_2, value_2, headers_2)
    assert dict(headers_1)["ce_id"] == b"A-1"
    assert dict(headers_1)["ce_source"] == b"/agencies/workflows/alerts"


def test_only_one_handler_may_keep_a_topics_dedupe(context: WorkflowContext) -> None:
    streams = Streams(FakeApp(), context)  # type: ignore[arg-type]

    async def handler(decoded: DecodedEvent, record: Incoming) -> None:
        return None

    streams.on("exchange.sighting", handler, dedupes=True)
    with pytest.raises(ValueError, match="only one handler"):
        streams.on("exchange.sighting", handler, dedupes=True)
