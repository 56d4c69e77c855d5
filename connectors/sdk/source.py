"""Sources: an agency system's records onto the bus, at least once, never silently dropped.

An adapter implements :meth:`Source.poll` (the next records after its stored progress) and
:meth:`Source.commit` (store the progress of records the broker has acknowledged). The base
class validates nothing itself; it publishes each valid :class:`SourceRecord` as the config's
agency, sealed for the topic's readers and signed (the records of one poll share one batch
signature; retrying with backoff), dead-letters the invalid ones with the error in headers, and
only then calls ``commit``. A crash between publish and commit publishes the same records
again *with the same* ``ce_id`` (each adapter derives it from the record's identity: file and
row, outbox id, idempotency key), so the bus's consumers, which dedupe on ``ce_source`` +
``ce_id``, see each event once.

Every event a source publishes is recorded in its agency's audit chain once the broker has it
(:meth:`~exchange.client.publisher.Publisher.record_published`), before ``commit``. While the
fail-closed audit policy refuses new events (audit records unwritten, or checkpoints not
time-stamped, for too long) the source *holds*: nothing is sent or committed, it waits and
polls the same records again. When an audit record cannot be written after its event was sent,
the poll is kept unfinished: nothing is committed, and the source retries that audit record
(without sending the event again) before it does anything else; a crash meanwhile re-sends the
poll after the restart under the same ``ce_id`` values, recorded then. Nothing is lost.

Dead letters from a source carry the input as received (value), and headers
``exchange.error.reason`` (``invalid-event``, ``encode-error``, ``no-topic``,
``publish-failed``), ``exchange.error.class``, ``exchange.error.message``,
``exchange.connector.name`` and ``exchange.source.position``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from connectors.sdk.base import C, Connector
from connectors.sdk.exceptions import RetriesExhaustedError
from connectors.sdk.retry import with_retries
from exchange.client.consumer import MAX_ERROR_TEXT
from exchange.client.exceptions import NoTopicError, PublishError
from exchange.client.identity import check_sender
from exchange.client.publisher import Publisher, PublishResult, choose_topic
from exchange.codec import EncodedEvent
from exchange.codec.exceptions import EncodeError
from exchange.evidence.exceptions import AuditUnavailableError, AuditWriteError
from exchange.models.exceptions import ValidationFailed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceRecord:
    """One input record: a valid ``event``, or the ``error`` that makes it invalid."""

    position: str
    """Where it came from (``file.csv:17``, ``outbox:42``); passed back to ``commit``."""
    event_id: str
    """Deterministic ``ce_id``: the same input gives the same id, so repeats are deduplicated."""
    raw: bytes
    event: BaseModel | None = None
    error: ValidationFailed | None = None
    time: datetime | None = None
    topic: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened to one record: ``result`` when published, else ``reason`` and ``error``."""

    record: SourceRecord
    result: PublishResult | None = None
    reason: str | None = None
    error: BaseException | None = None


class Source(Connector[C]):
    """Base of every source. ``poll_interval_s``: wait between empty polls."""

    poll_interval_s: float = 0.5
    dead_letter_invalid: bool = True
    """False when the adapter answers invalid records to their sender itself (the file-drop
    error report): they are then counted as refused, not dead-lettered."""
    _publisher: Publisher | None = None
    _dlq: AIOKafkaProducer | None = None
    _opened: contextlib.AsyncExitStack | None = None
    _unfinished: tuple[list[Outcome], list[tuple[EncodedEvent, PublishResult]]] | None = None
    """A poll whose events are sent but whose audit records are not all written yet."""

    @abstractmethod
    async def poll(self) -> Sequence[SourceRecord]:
        """The next records after the stored progress (empty when there is nothing new)."""

    @abstractmethod
    async def commit(self, outcomes: Sequence[Outcome]) -> None:
        """Store the progress of these records: each is published or dead-lettered."""

    async def setup(self) -> None:
        self._opened = contextlib.AsyncExitStack()
        self._publisher = await self._opened.enter_async_context(self.publisher())
        self._dlq = AIOKafkaProducer(
            **self.kafka().aiokafka_kwargs(), acks="all", enable_idempotence=True
        )
        await self._dlq.start()

    async def close(self) -> None:
        try:
            if self._opened is not None:
                await self._opened.aclose()  # the publisher, then the audit's last checkpoint
        finally:
            try:
                if self._dlq is not None:
                    await self._dlq.stop()
            finally:
                self._publisher = self._dlq = self._opened = None
                await super().close()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if self._unfinished is not None:
                    await self._complete_poll()
                    continue
                records = await self.poll()
                if records:
                    await self.publish(records, stop)
                    continue
            except (AuditUnavailableError, AuditWriteError) as error:
                await self._hold(error, stop)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_interval_s)

    async def _hold(self, error: AuditUnavailableError | AuditWriteError,
                    stop: asyncio.Event) -> None:
        """Nothing of the poll was committed: wait, then retry (see the module docs)."""
        self.metrics.errors.labels(self.name, type(error).__name__).inc()
        log.error("source %s holds its records: %s", self.name, error)
        wait = error.retry_after if isinstance(error, AuditUnavailableError) else 1.0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), min(wait, 5.0))

    async def publish(
        self, records: Sequence[SourceRecord], stop: asyncio.Event | None = None
    ) -> list[Outcome]:
        """Publish or dead-letter each record, then :meth:`commit` them; return the outcomes.

        Raises :class:`AuditUnavailableError` (nothing sent) or :class:`AuditWriteError` (an
        event sent, its audit record not written: the poll stays unfinished, :meth:`run`
        retries the record) and commits nothing then."""
        publisher = self._publisher
        if publisher is None:
            raise RuntimeError("call setup() first")
        publisher.admit()
        sealed: list[tuple[int, str, EncodedEvent]] = []
        outcomes: dict[int, Outcome] = {}
        for index, record in enumerate(records):
            if record.event is None:
                outcomes[index] = Outcome(record, reason="invalid-event", error=record.error)
                continue
            try:
                topic = choose_topic(
                    self.context.topology, self.config.agency, record.event, record.topic
                )
                check_sender(self.config.agency, record.event)
                encoded = publisher.seal(
                    record.event, topic=topic, id=record.event_id, time=record.time
                )
            except ValidationFailed as error:  # addressee or sender: refused as invalid events
                outcomes[index] = Outcome(record, reason="invalid-event", error=error)
                continue
            except (EncodeError, NoTopicError) as error:
                reason = "no-topic" if isinstance(error, NoTopicError) else "encode-error"
                outcomes[index] = Outcome(record, reason=reason, error=error)
                continue
            sealed.append((index, topic, encoded))
        publisher.sign([encoded for _, _, encoded in sealed])  # one signature for the poll
        queued = [
            (index, topic, encoded, await publisher.send_encoded_nowait(topic, encoded))
            for index, topic, encoded in sealed
        ]
        for index, topic, encoded, future in queued:
            record = records[index]
            try:
                outcomes[index] = Outcome(record, result=await future)
            except PublishError:
                outcomes[index] = await self._republish(record, topic, encoded, stop)
        ordered = [outcomes[i] for i in range(len(records))]
        sent = [(encoded, result) for index, _, encoded, _ in queued
                if (result := outcomes[index].result) is not None]
        self._unfinished = (ordered, sent)
        return await self._complete_poll()

    async def _complete_poll(self) -> list[Outcome]:
        """Write the unfinished poll's audit records (each once, in order; raises
        :class:`AuditWriteError` at the first that fails), then dead-letter and commit it."""
        publisher, unfinished = self._publisher, self._unfinished
        if publisher is None or unfinished is None:
            raise RuntimeError("nothing unfinished (or setup() not called)")
        ordered, unrecorded = unfinished
        while unrecorded:
            await publisher.record_published(*unrecorded[0])
            unrecorded.pop(0)
        for outcome in ordered:
            if outcome.reason == "invalid-event" and not self.dead_letter_invalid:
                self.metrics.records.labels(self.name, "refused").inc()
            elif outcome.result is None:
                await self.dead_letter(outcome)
            else:
                self.metrics.records.labels(self.name, "published").inc()
        await self.commit(ordered)
        self._unfinished = None
        return ordered

    async def _republish(
        self,
        record: SourceRecord,
        topic: str,
        encoded: EncodedEvent,
        stop: asyncio.Event | None,
    ) -> Outcome:
        publisher = self._publisher
        assert publisher is not None  # noqa: S101 - set by setup()
        try:
            result = await with_retries(
                lambda: publisher.send_encoded(topic, encoded),
                self.config.retry,
                what=f"publish {record.position}",
                connector=self.name,
                metrics=self.metrics,
                retryable=(PublishError,),
                stop=stop,
            )
        except RetriesExhaustedError as error:
            return Outcome(record, reason="publish-failed", error=error)
        return Outcome(record, result=result)

    async def dead_letter(self, outcome: Outcome) -> None:
        """Keep a record that could not be published in the dead-letter topic, with why."""
        if self._dlq is None:
            raise RuntimeError("call setup() first")
        error = outcome.error
        headers = [
            ("exchange.error.reason", outcome.reason or "unknown"),
            ("exchange.error.class", type(error).__name__ if error else ""),
            ("exchange.error.message", str(error)[:MAX_ERROR_TEXT] if error else ""),
            ("exchange.connector.name", self.name),
            ("exchange.source.position", outcome.record.position),
            ("ce_source", self.config.ce_source),
            ("ce_id", outcome.record.event_id),
        ]
        await self._dlq.send_and_wait(
            self.config.deadletter,
            value=outcome.record.raw,
            key=outcome.record.event_id.encode(),
            headers=[(k, v.encode()) for k, v in headers],
        )
        self.metrics.records.labels(self.name, "dead_lettered").inc()
