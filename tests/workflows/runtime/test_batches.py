"""Batches (:mod:`exchange.workflows.runtime.batches`) on the doubles of faust's app, topics and
events of test_guard_and_streams (the same path runs against the real broker in
tests/workflows/test_worker_*.py, where the sighting topic is read in batches)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from prometheus_client import CollectorRegistry

from exchange.codec import DecodedEvent, EventCodec
from exchange.topology.loader import load_topology
from exchange.workflows.runtime import Guard, Incoming, Outcome, WorkflowContext
from exchange.workflows.runtime.batches import BatchHandler, Item, Result, handle_batch
from exchange.workflows.runtime.guard import TableDedupe
from exchange.workflows.runtime.metrics import WorkflowMetrics
from tests.workflows.runtime.test_guard_and_streams import (
    FakeApp,
    FakeEvent,
    FakeMessage,
    event_of,
    sample,
)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def context(codec: EventCodec, registry: CollectorRegistry) -> WorkflowContext:
    return WorkflowContext(codec=codec, topology=load_topology(), metrics=WorkflowMetrics(registry))


async def test_a_batch_dead_letters_the_bad_events_one_by_one_and_hands_on_the_rest(
    codec: EventCodec, context: WorkflowContext, registry: CollectorRegistry
) -> None:
    app = FakeApp()
    guard = Guard(app, context, TableDedupe({}))  # type: ignore[arg-type]
    seen: list[list[int]] = []

    async def handle(batch: Sequence[Item]) -> list[Result]:
        seen.append([record.offset for _, record in batch])
        return [ValueError("field: rule") if record.offset == 3 else None
                for _, record in batch]

    poison = FakeEvent(FakeMessage("exchange.sighting", 0, 1, b"k", b"garbage", []))
    events = [
        event_of(codec, 0, "s-0"), poison, event_of(codec, 2, "s-2"), event_of(codec, 3, "s-3"),
        event_of(codec, 4, "s-0"),  # a copy of the first, in the same batch
    ]
    await handle_batch(guard, events, [BatchHandler(handle)])  # type: ignore[arg-type]
    assert seen == [[0, 2, 3]]
    dead = app.topics[context.deadletter_topic].sent
    reasons = [dict(headers)["exchange.error.reason"] for _, _, headers in dead]
    assert len(reasons) == 2
    assert reasons[1] == b"handler-error"
    assert sample(registry, "exchange_workflow_duplicates_total", topic="exchange.sighting") == 1
    assert sample(registry, "exchange_events_consumed_total", topic="exchange.sighting",
                  type="exchange.events.TransportSighting", agency="workflows") == 2
    # the dedupe remembers what was handled, failed ones included (they are dead-lettered)
    again = [event_of(codec, 9, "s-2")]
    await handle_batch(guard, again, [BatchHandler(handle)])  # type: ignore[arg-type]
    assert seen == [[0, 2, 3]]


async def test_a_duplicate_found_by_a_batch_handler_is_not_given_to_the_next_handlers(
    codec: EventCodec, context: WorkflowContext
) -> None:
    app = FakeApp()
    guard = Guard(app, context)  # type: ignore[arg-type]
    after: list[int] = []

    async def owner(batch: Sequence[Item]) -> list[Result]:
        return [Outcome.DUPLICATE if record.offset % 2 else None for _, record in batch]

    async def other(decoded: DecodedEvent, record: Incoming) -> None:
        after.append(record.offset)

    events = [event_of(codec, offset, f"s-{offset}") for offset in range(5)]
    await handle_batch(guard, events, [BatchHandler(owner), other])  # type: ignore[arg-type]
    assert after == [0, 2, 4]


async def test_a_batch_handler_that_raises_dead_letters_every_event_it_was_given(
    codec: EventCodec, context: WorkflowContext
) -> None:
    app = FakeApp()
    guard = Guard(app, context)  # type: ignore[arg-type]

    async def broken(batch: Sequence[Item]) -> list[Result]:
        raise RuntimeError("down")

    async def short(batch: Sequence[Item]) -> list[Result]:
        return []

    events = [event_of(codec, offset, f"s-{offset}") for offset in range(3)]
    await handle_batch(guard, events, [BatchHandler(broken)])  # type: ignore[arg-type]
    await handle_batch(guard, events[:1], [BatchHandler(short)])  # type: ignore[arg-type]
    assert len(app.topics[context.deadletter_topic].sent) == 4


async def test_each_event_is_fausts_current_event_while_it_is_handled(
    codec: EventCodec, context: WorkflowContext
) -> None:
    """take_events reads in a task of its own: without this, a table write in a batched
    agent fails ("Cannot modify table outside of agent/stream") or lands on another
    partition's changelog."""
    from faust.streams import current_event  # noqa: PLC0415

    guard = Guard(FakeApp(), context)  # type: ignore[arg-type]
    current: list[object] = []

    async def handler(decoded: DecodedEvent, record: Incoming) -> None:
        current.append(current_event())

    events = [event_of(codec, offset, f"s-{offset}") for offset in range(3)]
    await handle_batch(guard, events, [handler])  # type: ignore[arg-type]
    assert current == events
