""":class:`Streams`: what a workflow registers on, and emits through."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, cast

import faust
from pydantic import BaseModel

from exchange.workflows.runtime.batches import (
    AnyHandler,
    BatchFunction,
    BatchHandler,
    RawBatchFunction,
    handle_batch,
)
from exchange.workflows.runtime.context import Handler, WorkflowContext
from exchange.workflows.runtime.emit import send
from exchange.workflows.runtime.faust_patches import handling
from exchange.workflows.runtime.guard import Guard, TableDedupe
from exchange.workflows.runtime.records import Incoming
from exchange.workflows.runtime.ticker import Ticker


class Streams:
    """One agent per source topic, shared by every workflow that reads the topic.

    Workflows register handlers with :meth:`on`; :meth:`start` then defines, for each topic, a
    single agent (concurrency 1, so one partition's events are handled in order) whose
    :class:`Guard` dedupes and decodes each event once for all of them. Partition counts come
    from the topology, so a table's changelog always matches its source topic.
    """

    def __init__(self, app: faust.App, context: WorkflowContext) -> None:
        self.app = app
        self.context = context
        self._handlers: dict[str, list[AnyHandler]] = {}
        self._self_deduped: set[str] = set()
        self._batched: set[str] = set()

    def on(
        self, topic: str, handler: Handler, *, dedupes: bool = False, batch: bool = False
    ) -> None:
        """Give ``topic``'s events to ``handler``. ``dedupes``: the handler recognises the
        topic's duplicates itself (returning ``Outcome.DUPLICATE``) from state it keeps anyway,
        so the topic needs no table of handled ids; it runs before the topic's other handlers.
        ``batch``: read the topic in batches (:mod:`.batches`); ``handler`` still sees one
        event at a time."""
        self._register(topic, handler, dedupes=dedupes, batch=batch)

    def on_batch(self, topic: str, handler: BatchFunction, *, dedupes: bool = False) -> None:
        """Read ``topic`` in batches (:mod:`.batches`) and give ``handler`` each batch's
        admitted events at once; ``dedupes`` as in :meth:`on`."""
        self._register(topic, BatchHandler(handler), dedupes=dedupes, batch=True)

    def _register(self, topic: str, handler: AnyHandler, *, dedupes: bool, batch: bool) -> None:
        self.context.topology.topic(topic)  # fails early on a topic the topology lacks
        handlers = self._handlers.setdefault(topic, [])
        if dedupes:
            if topic in self._self_deduped:
                raise ValueError(f"{topic}: only one handler may keep its dedupe")
            self._self_deduped.add(topic)
            handlers.insert(0, handler)
        else:
            handlers.append(handler)
        if batch:
            self._batched.add(topic)

    async def emit(
        self, event: BaseModel, *topics: Any, id: str, source: str, confirmed: bool = False
    ) -> list[asyncio.Future[Any]]:
        """Encode ``event`` (sealed and signed when the worker is protected) and send it to each
        of ``topics`` now. ``id`` is its ``ce_id``, derived from the input's so that a replay
        sends the same ids; ``source`` the path under the worker's ``ce_source``.
        ``confirmed``: return once the broker acknowledged it, for an output a table write
        records next (see :func:`~.emit.send`). Returns the deliveries, for a handler that
        confirms several outputs at once (:func:`~.emit.confirm`)."""
        context = self.context
        encoder = context.encoder
        full_source = f"{context.source}/{source}"
        encoded = None
        deliveries = []
        for topic in topics:
            name = topic.get_topic_name()
            if encoded is None or encoder.per_topic:
                encoded = encoder.encode(event, topic=name, source=full_source, id=id)
            if context.protection is not None:
                await context.protection.routed(encoded, name)
            deliveries.append(await send(
                self.app, topic, key=encoded.key, value=encoded.value, headers=encoded.headers,
                confirmed=confirmed,
            ))
        return deliveries

    def require_co_partitioned(self, source: str, *others: str) -> None:
        """Fail at start unless ``others`` have as many partitions as ``source``: their events
        share the tables of ``source``'s partitions (same case key, same partition)."""
        topology = self.context.topology
        partitions = topology.topic(source).partitions
        for other in others:
            if topology.topic(other).partitions != partitions:
                raise ValueError(f"{other} must have as many partitions as {source}")

    def raw_topic(self, name: str, **options: Any) -> Any:
        """A faust topic of raw bytes (the codec does the decoding)."""
        return self.app.topic(
            name, key_type=bytes, value_type=bytes, key_serializer="raw",
            value_serializer="raw", **options,
        )

    def inboxes(self, prefix: str) -> dict[str, Any]:
        """The inbox topics whose names start with ``prefix`` (``exchange.sighting.to.``), by
        the agency each is addressed to."""
        return {
            topic.addressed_to: self.raw_topic(topic.name)
            for topic in self.context.topology.topics
            if topic.name.startswith(prefix) and topic.addressed_to
        }

    def table(self, name: str, source: str, *, global_: bool = False) -> Any:
        """A table co-partitioned with topic ``source``, string keys, byte values."""
        factory = self.app.GlobalTable if global_ else self.app.Table
        partitions = self.context.topology.topic(source).partitions
        table = factory(name, default=None, partitions=partitions, key_type=str, value_type=bytes)
        if self.context.protection is not None:  # values sealed at rest (RocksDB, changelog)
            return self.context.protection.table(name, table)
        return table

    def ticker(
        self, name: str, *, source: str, scan: Callable[[], Awaitable[None]],
        on_tick: Callable[[Incoming], Awaitable[None]] | None = None,
        on_ticks: RawBatchFunction | None = None,
    ) -> Ticker:
        """A timer for ``name``'s deadlines, co-partitioned with ``source`` (see :mod:`.ticker`):
        its ticks handled one by one (``on_tick``) or a batch at once (``on_ticks``)."""
        return Ticker(self, name, source=source, scan=scan, on_tick=on_tick, on_ticks=on_ticks)

    def start(self) -> None:
        for topic, handlers in self._handlers.items():
            self._agent(topic, handlers)

    def _agent(self, topic: str, handlers: list[AnyHandler]) -> None:
        slug = topic.removeprefix("exchange.").replace(".", "-")
        dedupe = (
            None if topic in self._self_deduped
            else TableDedupe(self.table(f"{slug}-seen", topic))
        )
        guard = Guard(self.app, self.context, dedupe)
        partitions = self.context.topology.topic(topic).partitions
        source = self.raw_topic(topic, partitions=partitions)

        async def read(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                with handling(self.app, [event]):  # cancelled mid-handling: not committable
                    await guard(event, handlers)  # type: ignore[arg-type]  # none is a batch one

        async def read_batches(stream: faust.StreamT[bytes]) -> None:
            # take_events acks a batch's events when the next batch is asked for: after
            # handle_batch returned; a batch cancelled mid-handling stays uncommittable
            # (handling; see .batches on at-least-once)
            async for events in cast("faust.Stream[bytes]", stream).take_events(
                self.context.batch_max, self.context.batch_within
            ):
                with handling(self.app, events):
                    await handle_batch(guard, events, handlers)

        reader = read_batches if topic in self._batched else read
        self.app.agent(source, name=f"read-{slug}", concurrency=1)(reader)
