"""The :class:`Guard` around every event's handling: dedupe, decode, handle, dead-letter."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple, Protocol

import faust

from exchange.client.consumer import DeadLetter, dead_letter_headers
from exchange.codec import DecodedEvent
from exchange.codec.exceptions import DecodeError
from exchange.workflows.runtime.context import AGENCY, Handler, Opened, Outcome, WorkflowContext
from exchange.workflows.runtime.emit import send
from exchange.workflows.runtime.records import Incoming, dedupe_key, incoming

log = logging.getLogger(__name__)


class Dedupe(Protocol):
    """How a topic's duplicates (same ``ce_source`` + ``ce_id``) are recognised before any
    handler runs."""

    def seen(self, key: str) -> bool:
        """True when the event was handled before (its handlers are then skipped)."""

    def remember(self, key: str, record: Incoming) -> None: ...


class TableDedupe:
    """A table of the dedupe keys handled (one changelog record each)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def seen(self, key: str) -> bool:
        return self.table.get(key) is not None

    def remember(self, key: str, record: Incoming) -> None:
        self.table[key] = str(record.offset).encode()


class Admitted(NamedTuple):
    """A record the handlers may see: decoded (and opened, in protected mode)."""

    record: Incoming
    decoded: DecodedEvent
    key: str | None
    opened: Opened | None


class Guard:
    """Dedupe, decode, handle, dead-letter: one event at a time, never dropping one.

    Duplicates (same ``ce_source`` + ``ce_id``) are skipped, by ``dedupe`` or by a handler that
    returns :attr:`Outcome.DUPLICATE`; any failure (undecodable, invalid, or a handler that
    raises) sends the record with its reason to ``exchange.deadletter.workflows`` before the
    stream moves on: faust's default, an exception that acks and drops the event, never happens.
    In protected mode each input is verified and opened first; what fails goes to the quarantine
    topic, never to a handler.
    """

    def __init__(
        self, app: faust.App, context: WorkflowContext, dedupe: Dedupe | None = None
    ) -> None:
        self.app = app
        self.context = context
        self.dedupe = dedupe
        self.deadletter = app.topic(
            context.deadletter_topic, key_type=bytes, value_type=bytes, value_serializer="raw",
            key_serializer="raw",
        )

    async def __call__(
        self, event: faust.types.EventT[bytes], handlers: Sequence[Handler]
    ) -> None:
        """Decode the event once and give it to every handler; a record that cannot be decoded,
        or that any handler fails on, goes once to the dead-letter topic with the reason."""
        admitted = await self.admit(incoming(event))
        if admitted is None:
            return
        failure: Exception | None = None
        for handler in handlers:
            try:
                outcome = await handler(admitted.decoded, admitted.record)
            except Exception as error:  # noqa: BLE001 - every failure is dead-lettered
                failure = failure or error
                continue
            if outcome is Outcome.DUPLICATE:
                self.context.metrics.duplicates.labels(admitted.record.topic).inc()
                return
        await self.settle(admitted, failure)

    async def admit(self, record: Incoming, batch: set[str] | None = None) -> Admitted | None:
        """Open (protected mode), dedupe and decode ``record``; None when no handler may see
        it (quarantined, a duplicate, or dead-lettered here). ``batch``: the dedupe keys
        admitted earlier in the same batch (not remembered yet), so that a copy in the same
        batch is recognised too."""
        protection = self.context.protection
        opened: Opened | None = None
        if protection is not None:  # verified before anything else looks at it
            try:
                opened = await protection.open(record)
            except DecodeError as error:
                await self._dead_letter(record, DeadLetter(error.reason, error))
                return None
            if opened is None:
                return None  # quarantined, counted and audited: never acted on
        key = dedupe_key(record)
        if key is not None and self.dedupe is not None:
            if self.dedupe.seen(key) or (batch is not None and key in batch):
                self.context.metrics.duplicates.labels(record.topic).inc()
                return None
            if batch is not None:
                batch.add(key)
        try:
            decoded = (
                opened.decoded if opened is not None
                else self.context.codec.decode_record(record.key, record.value, record.headers)
            )
        except DecodeError as error:
            await self._dead_letter(record, DeadLetter(error.reason, error))
            return None
        return Admitted(record, decoded, key, opened)

    async def settle(
        self, admitted: Admitted, failure: Exception | None, *, count: bool = True
    ) -> None:
        """After the handlers: dead-letter on ``failure``, remember the dedupe key, count
        (unless ``count`` is False: the caller counts a batch at once) and confirm delivery."""
        record = admitted.record
        if failure is not None:
            await self._dead_letter(record, DeadLetter("handler-error", failure))
        if admitted.key is not None and self.dedupe is not None:
            self.dedupe.remember(admitted.key, record)
        if failure is None:
            if count:
                bus = self.context.metrics.bus
                bus.child(bus.consumed, record.topic, admitted.decoded.attributes.type,
                          AGENCY).inc()
            if self.context.protection is not None:
                await self.context.protection.delivered(admitted.opened, record)

    async def raw(
        self, event: faust.types.EventT[bytes], handler: Callable[[Incoming], Awaitable[None]]
    ) -> None:
        """For the app's own internal messages (no CloudEvent to decode): handle, or
        dead-letter on failure."""
        record = incoming(event)
        try:
            await handler(record)
        except Exception as error:  # noqa: BLE001 - every failure is dead-lettered, never dropped
            await self.dead_letter(record, error)

    async def dead_letter(self, record: Incoming, error: Exception) -> None:
        """Dead-letter an internal record whose handler failed with ``error``."""
        await self._dead_letter(record, DeadLetter("handler-error", error))

    async def _dead_letter(self, record: Incoming, dead: DeadLetter) -> None:
        await send(
            self.app, self.deadletter, key=record.key, value=record.value,
            headers=dead_letter_headers(record, dead, self.app.conf.id),
        )
        bus = self.context.metrics.bus
        bus.child(bus.dead_lettered, record.topic, dead.reason, AGENCY).inc()
        log.warning(
            "dead-lettered %s[%d]@%d to %s: %s (%s)", record.topic, record.partition,
            record.offset, self.context.deadletter_topic, dead.reason, type(dead.error).__name__,
        )
