"""A consumer that never crashes or stalls on a record it cannot use.

Each record is decoded (:class:`exchange.codec.EventCodec`) and given to the handler. A record
that cannot be decoded or validated, or whose handler raises, is copied to the agency's
dead-letter topic, unchanged (same key, value and headers), with the error and its origin added
as headers in the spirit of Kafka Connect's ``__connect.errors.*``:

==============================  ==========================================================
``exchange.error.reason``       short code: ``not-single-object``, ``unknown-fingerprint``,
                                ``avro-decode``, ``invalid-event``, ``handler-error``, ...
``exchange.error.class``        the exception's class name
``exchange.error.message``      the error text (capped at 2 000 characters)
``exchange.original.topic``     where the record was read
``exchange.original.partition`` (decimal)
``exchange.original.offset``    (decimal)
``exchange.consumer.group``     the consumer group that gave up on it
==============================  ==========================================================

Every consumer verifies, unless built on purpose with an
:class:`~exchange.protection.unprotected.Unprotected` (there is no default). With the agency's
:class:`~exchange.protection.protected.ProtectedCodec` (``protection``), each record is
verified before anything is decoded: an unsigned, forged, tampered or replayed record, or one
signed with a revoked key, is copied to ``quarantine_topic`` with the same headers (reason
``exchange.error.reason``: ``unsigned``, ``bad-signature``, ...), counted in
``exchange_events_quarantined_total`` and never given to the handler (``quarantine_topic``
defaults to ``exchange.quarantine.<agency>``; a ``[[unsigned]]`` migration exception of
``topology/trust.toml`` lets unsigned events of its topic or source through). The handler
receives the event with what this agency is entitled to opened (the rest keeps its
placeholders). With an ``audit`` trail, every delivery (with the categories decrypted) and
every quarantine is recorded.

Only then is the offset committed, so delivery is at-least-once and nothing is lost: a crash
between handling and commit replays the batch (handlers must be idempotent on ``ce_source`` +
``ce_id``). Logs name the topic, partition, offset and reason, never the record's content.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError

from exchange.client.exceptions import NotAuthorizedError
from exchange.client.translate import translated
from exchange.codec import DecodedEvent, EventCodec
from exchange.codec.exceptions import DecodeError
from exchange.metrics import BusMetrics
from exchange.protection.audit import AuditTrail
from exchange.protection.protected import ProtectedCodec
from exchange.protection.quarantine import Quarantine
from exchange.protection.quarantine import quarantine_topic as quarantine_topic_of
from exchange.protection.unprotected import Unprotected
from exchange.settings import KafkaSettings
from exchange.tls.kafka import start_client

log = logging.getLogger(__name__)

Handler = Callable[[DecodedEvent, ConsumerRecord], Awaitable[None]]
MAX_ERROR_TEXT = 2000


@dataclass(frozen=True)
class DeadLetter:
    """Why a record went to the dead-letter topic."""

    reason: str
    error: BaseException


def dead_letter_headers(
    record: ConsumerRecord, dead: DeadLetter, group_id: str
) -> list[tuple[str, bytes]]:
    added = [
        ("exchange.error.reason", dead.reason),
        ("exchange.error.class", type(dead.error).__name__),
        ("exchange.error.message", str(dead.error)[:MAX_ERROR_TEXT]),
        ("exchange.original.topic", record.topic),
        ("exchange.original.partition", str(record.partition)),
        ("exchange.original.offset", str(record.offset)),
        ("exchange.consumer.group", group_id),
    ]
    return [*list(record.headers or ()), *((k, v.encode()) for k, v in added)]


class EventConsumer:
    """Consume events from ``topics`` as ``agency`` in consumer group ``group_id``.

    The group id must start with ``<agency>.`` (the ACLs grant groups by that prefix).
    """

    def __init__(
        self,
        settings: KafkaSettings,
        codec: EventCodec,
        topics: Sequence[str],
        *,
        agency: str,
        group_id: str,
        deadletter_topic: str,
        metrics: BusMetrics,
        protection: ProtectedCodec | Unprotected,
        max_records: int = 500,
        quarantine_topic: str | None = None,
        audit: AuditTrail | None = None,
    ) -> None:
        if protection is None:  # an untyped caller: refuse rather than read unverified
            raise TypeError("EventConsumer needs protection: a ProtectedCodec, or Unprotected(...)")
        self.settings = settings
        self.codec = codec
        self.topics = list(topics)
        self.agency = agency
        self.group_id = group_id
        self.deadletter_topic = deadletter_topic
        self.metrics = metrics
        self.max_records = max_records
        self.protection = protection if isinstance(protection, ProtectedCodec) else None
        self.unprotected = protection if isinstance(protection, Unprotected) else None
        self.quarantine_topic = quarantine_topic or quarantine_topic_of(agency)
        self.audit = audit
        self._quarantine = (
            None if self.protection is None else Quarantine(
                self.protection, self._send, metrics, agency=agency, group=group_id,
                topic=self.quarantine_topic, audit=audit,
            )
        )  # fmt: skip
        connection = settings.aiokafka_kwargs()
        self._consumer = AIOKafkaConsumer(
            *self.topics,
            **connection,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        self._dlq = AIOKafkaProducer(**connection, acks="all", enable_idempotence=True)
        self._started = False

    async def start(self) -> None:
        """Connect (the Kafka client's errors raised as the project's: a broker out of reach,
        a topic or group not allowed); on any failure both clients are closed again."""
        if self.unprotected is not None:
            self.unprotected.warn(f"the consumer {self.group_id!r}")
        try:
            with translated(self.settings, self._what()):
                await start_client(self._dlq, self.settings)
                await start_client(self._consumer, self.settings)
        except BaseException:
            await self._consumer.stop()
            await self._dlq.stop()
            raise
        self._started = True

    async def stop(self) -> None:
        if self._started:
            await self._consumer.stop()
            await self._dlq.stop()
            self._started = False

    def _what(self) -> str:
        return f"topics {', '.join(self.topics)} in group {self.group_id}"

    async def poll_once(self, handler: Handler, timeout_ms: int = 500) -> int:
        """Fetch one batch, handle or dead-letter each record, commit; return records seen."""
        try:
            batches = await self._consumer.getmany(
                timeout_ms=timeout_ms, max_records=self.max_records
            )
        except (TopicAuthorizationFailedError, GroupAuthorizationFailedError) as error:
            raise NotAuthorizedError(self.settings.username, self._what(), error) from error
        seen = 0
        offsets: dict[TopicPartition, int] = {}
        for tp, records in batches.items():
            for record in records:
                await self._process(record, handler)
                seen += 1
            if records:
                offsets[tp] = records[-1].offset + 1
            await self._record_lag(tp)
        if offsets:
            await self._consumer.commit(offsets)
        return seen

    async def run(self, handler: Handler, stop: asyncio.Event) -> None:
        """Handle records until ``stop`` is set; commits after every batch."""
        while not stop.is_set():
            await self.poll_once(handler)

    async def _process(self, record: ConsumerRecord, handler: Handler) -> None:
        categories: frozenset[str] = frozenset()
        try:
            if self._quarantine is None:
                decoded = self.codec.decode_record(record.key, record.value, record.headers or ())
            else:
                opened = await self._quarantine.open(record)
                if opened is None:  # quarantined: never acted on
                    return
                decoded, categories = opened.decoded, opened.opened.categories
        except DecodeError as error:
            await self._dead_letter(record, DeadLetter(error.reason, error))
            return
        started = time.perf_counter()
        try:
            await handler(decoded, record)
        except Exception as error:  # noqa: BLE001 - any handler failure is dead-lettered, never dropped
            await self._dead_letter(record, DeadLetter("handler-error", error))
            return
        metrics = self.metrics
        metrics.child(metrics.handle_seconds, record.topic, self.agency).observe(
            time.perf_counter() - started
        )
        metrics.child(metrics.consumed, record.topic, decoded.attributes.type, self.agency).inc()
        if self.audit is not None:
            await self.audit.record(
                "delivered", decoded.attributes, topic=record.topic,
                partition=record.partition, offset=record.offset, categories=categories,
            )

    async def _send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        await self._dlq.send_and_wait(topic, value=value, key=key, headers=headers)

    async def _dead_letter(self, record: ConsumerRecord, dead: DeadLetter) -> None:
        await self._dlq.send_and_wait(
            self.deadletter_topic,
            value=record.value,
            key=record.key,
            headers=dead_letter_headers(record, dead, self.group_id),
        )
        self.metrics.dead_lettered.labels(record.topic, dead.reason, self.agency).inc()
        log.warning(
            "dead-lettered %s[%d]@%d to %s: %s (%s)", record.topic, record.partition,
            record.offset, self.deadletter_topic, dead.reason, type(dead.error).__name__,
        )

    async def _record_lag(self, tp: TopicPartition) -> None:
        highwater = self._consumer.highwater(tp)
        if highwater is not None:
            position = await self._consumer.position(tp)
            self.metrics.lag.labels(tp.topic, str(tp.partition), self.group_id).set(
                max(0, highwater - position)
            )

