"""Batches: a topic whose events are handled a batch at a time (DESIGN.md section 5).

A topic is *batched* when a workflow registers on it with :meth:`~.streams.Streams.on_batch`
(or ``on(..., batch=True)``). Its agent then reads ``stream.take_events(max, within)``: up to
:attr:`~.context.WorkflowContext.batch_max` events, or what came within
:attr:`~.context.WorkflowContext.batch_within` seconds. :func:`handle_batch` gives them to the
topic's handlers:

- the :class:`~.guard.Guard` admits each event in order (opens it in protected mode, dedupes it,
  a copy earlier in the same batch included, decodes it); what it cannot admit is dead-lettered
  or quarantined one by one, never dropped;
- each handler in turn sees the admitted events: a :class:`BatchHandler` all of them at once,
  a per-event handler one by one; an event a handler recognises as a duplicate is not given to
  the next ones; a handler's failure dead-letters that event alone (a batch handler that raises
  fails every event it was given);
- then each event is settled (dead-lettered on failure, its dedupe key remembered) and the
  batch's consumption counted at once.

At-least-once: ``take_events`` acks the batch's events (makes their offsets committable) only
when the agent asks for the next batch, after :func:`handle_batch` returned; faust flushes the
producer before it commits, so a batch's offsets are committed only after its outputs are
acknowledged. A crash mid-batch replays the whole batch; the dedupe and the deterministic output
ids absorb the copies. ``take_events`` also acks in a ``finally``, so a batch whose handling is
*cancelled* (SIGTERM while it sends) would be acked and committed on stop, outputs unsent:
:func:`~.faust_patches.handling` keeps such a batch uncommittable, and the next worker reads it
again (the topics not batched: the same for an event, which faust's per-event iterator acks in a
``finally`` too). A crash or SIGKILL commits nothing: the batch is replayed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

import faust

from exchange.codec import DecodedEvent
from exchange.workflows.runtime.context import AGENCY, Handler, Outcome
from exchange.workflows.runtime.faust_patches import make_current
from exchange.workflows.runtime.guard import Admitted, Guard
from exchange.workflows.runtime.records import Incoming, incoming

Item = tuple[DecodedEvent, Incoming]
Result = Outcome | Exception | None
"""Per event: None (handled), :attr:`Outcome.DUPLICATE`, or the exception it failed with."""
BatchFunction = Callable[[Sequence[Item]], Awaitable[Sequence[Result]]]


@dataclass(frozen=True)
class BatchHandler:
    """A handler given a batch's events at once; it returns one :data:`Result` per event, in
    the same order."""

    handle: BatchFunction


AnyHandler = Handler | BatchHandler

_events: ContextVar[dict[tuple[int, int], faust.types.EventT[bytes]]] = ContextVar("batch")


@contextmanager
def acting_for(record: Incoming) -> Iterator[None]:
    """Within: table writes are made for ``record`` (an event of the batch being handled),
    on its partition. A batch handler writes state only within it."""
    make_current(_events.get()[record.partition, record.offset])
    yield


async def handle_batch(
    guard: Guard, events: Sequence[faust.types.EventT[bytes]], handlers: Sequence[AnyHandler]
) -> None:
    """Admit, handle and settle one batch (see the module's documentation)."""
    _events.set({(e.message.partition, e.message.offset): e for e in events})
    admitted_keys: set[str] = set()
    live: list[Admitted] = []
    for event in events:
        make_current(event)
        admitted = await guard.admit(incoming(event), admitted_keys)
        if admitted is not None:
            live.append(admitted)
    failures: dict[int, Exception] = {}  # by position in ``live``
    active = list(range(len(live)))
    duplicates: Counter[str] = Counter()
    for handler in handlers:
        if not active:
            break
        results = await _run(handler, [live[i] for i in active])
        still: list[int] = []
        for index, result in zip(active, results, strict=True):
            if result is Outcome.DUPLICATE:
                duplicates[live[index].record.topic] += 1
            else:
                if isinstance(result, Exception):
                    failures.setdefault(index, result)
                still.append(index)
        active = still
    metrics = guard.context.metrics
    for topic, count in duplicates.items():
        metrics.duplicates.labels(topic).inc(count)
    consumed: Counter[tuple[str, str]] = Counter()
    for index in active:
        admitted = live[index]
        failure = failures.get(index)
        with acting_for(admitted.record):
            await guard.settle(admitted, failure, count=False)
        if failure is None:
            consumed[admitted.record.topic, admitted.decoded.attributes.type] += 1
    bus = metrics.bus
    for (topic, event_type), count in consumed.items():
        bus.child(bus.consumed, topic, event_type, AGENCY).inc(count)


async def _run(handler: AnyHandler, batch: list[Admitted]) -> Sequence[Result]:
    if isinstance(handler, BatchHandler):
        try:
            results = await handler.handle([(a.decoded, a.record) for a in batch])
        except Exception as error:  # noqa: BLE001 - every event of the batch is dead-lettered
            return [error] * len(batch)
        return _one_each(results, len(batch))
    each: list[Result] = []
    for admitted in batch:
        try:
            with acting_for(admitted.record):
                each.append(await handler(admitted.decoded, admitted.record))
        except Exception as error:  # noqa: BLE001 - every failure is dead-lettered
            each.append(error)
    return each


_R = TypeVar("_R")


def _one_each(results: Sequence[_R], count: int) -> Sequence[_R | Exception]:
    """A batch handler's results, or a failure for each of the ``count`` inputs when it did
    not return one result per input."""
    if len(results) == count:
        return results
    wrong = RuntimeError(f"a batch handler returned {len(results)} results for {count} inputs")
    return [wrong] * count


RawBatchFunction = Callable[[Sequence[Incoming]], Awaitable[Sequence[Exception | None]]]
"""A batch handler of the app's own internal records (no CloudEvent: the ticks): one result
per record, None when handled, else the exception it failed with."""


async def handle_raw_batch(
    guard: Guard, events: Sequence[faust.types.EventT[bytes]], handler: RawBatchFunction
) -> None:
    """Give a batch of internal records to ``handler`` at once (it writes state for a record
    within :func:`acting_for`); dead-letter each record it failed, every record if it raised."""
    _events.set({(e.message.partition, e.message.offset): e for e in events})
    records = [incoming(event) for event in events]
    try:
        results: Sequence[Exception | None] = await handler(records)
    except Exception as error:  # noqa: BLE001 - every record of the batch is dead-lettered
        results = [error] * len(records)
    results = _one_each(results, len(records))
    for event, record, result in zip(events, records, results, strict=True):
        if result is not None:
            make_current(event)
            await guard.dead_letter(record, result)


def one_by_one(handler: Callable[[Incoming], Awaitable[None]]) -> RawBatchFunction:
    """A batch handler that gives each record to ``handler`` in turn, for its partition."""

    async def each(records: Sequence[Incoming]) -> list[Exception | None]:
        results: list[Exception | None] = []
        for record in records:
            try:
                with acting_for(record):
                    await handler(record)
            except Exception as error:  # noqa: BLE001 - this record alone is dead-lettered
                results.append(error)
            else:
                results.append(None)
        return results

    return each
