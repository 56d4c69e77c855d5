"""Publish standardized events as an agency: validate, encode, send, confirm.

The publisher encodes with :class:`exchange.codec.EventCodec` (Avro single-object encoding plus
CloudEvents headers), picks the topic from the topology (the topics that carry this event type
and that the agency may write; a referral goes to the inbox of its ``toAgency``), and waits for
the broker's acknowledgement (``acks=all``, idempotent producer) before reporting success.

:meth:`Publisher.publish_many` keeps a whole list of events in flight; with protection, the
events bound for one topic are sealed each and signed with one batch signature
(:meth:`~exchange.protection.protected.ProtectedCodec.encode_batch`), each still verifiable
alone by its readers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import BaseModel

from exchange.client.addressing import addressees, check_addressee
from exchange.client.exceptions import BatchPublishError, NoTopicError, PublishError
from exchange.client.identity import check_sender, check_source
from exchange.client.translate import translated
from exchange.codec import EncodedEvent, EventCodec
from exchange.codec.encoder import EventEncoder, PlainEncoder
from exchange.evidence.exceptions import AuditWriteError
from exchange.evidence.guard import AuditGuard
from exchange.metrics import BusMetrics
from exchange.models.registry import spec_for_model
from exchange.protection.audit import AuditTrail
from exchange.protection.encoder import ProtectedEncoder
from exchange.protection.protected import ProtectedCodec
from exchange.settings import KafkaSettings
from exchange.tls.kafka import start_client
from exchange.topology.model import Topology


@dataclass(frozen=True)
class PublishResult:
    topic: str
    partition: int
    offset: int
    event_id: str
    key: str


def choose_topic(
    topology: Topology, agency: str, event: BaseModel, topic: str | None = None
) -> str:
    """The one topic ``agency`` writes ``event`` to, by the topology (or ``topic``, if given).

    Several topics can carry an event type (one referral inbox per receiving agency); then the
    inbox addressed to the event's addressee is chosen. An addressed event goes to its
    addressee's inbox or nowhere (:func:`~exchange.client.addressing.check_addressee`).
    """
    check_addressee(topology, event, topic)
    if topic is not None:
        return topic
    fullname = spec_for_model(type(event)).fullname
    candidates = [t for t in topology.topics_for_event(fullname) if agency in t.writers]
    if len(candidates) > 1:
        found = addressees(event)
        candidates = [t for t in candidates if found and t.addressed_to in found[1]] or candidates
    if len(candidates) != 1:
        raise NoTopicError(agency, fullname, [t.name for t in candidates])
    return candidates[0].name


class Publisher:
    """An agency's publishing connection. Use as ``async with Publisher(...) as publisher``."""

    def __init__(
        self,
        settings: KafkaSettings,
        codec: EventCodec,
        topology: Topology,
        *,
        agency: str,
        source: str,
        metrics: BusMetrics,
        linger_ms: int = 5,
        protection: ProtectedCodec | None = None,
        audit: AuditTrail | None = None,
        guard: AuditGuard | None = None,
    ) -> None:
        """With ``protection``, every event is sealed for the readers of its topic and signed;
        with ``audit``, every acknowledged event is recorded in the audit trail; with ``guard``,
        no event is accepted while the fail-closed audit policy refuses them
        (:class:`~exchange.evidence.exceptions.AuditUnavailableError`)."""
        self.settings = settings
        self.codec = codec
        self.topology = topology
        self.agency = agency
        self.source = source
        self.metrics = metrics
        self.protection = protection
        self.encoder: EventEncoder = (
            ProtectedEncoder(protection, topology) if protection is not None
            else PlainEncoder(codec)
        )
        """Chosen once: every event this publisher sends is encoded by it."""
        self.audit = audit
        self.guard = guard
        check_source(agency, source, [a.id for a in topology.agencies])
        self._producer = AIOKafkaProducer(
            **settings.aiokafka_kwargs(),
            acks="all",
            enable_idempotence=True,
            linger_ms=linger_ms,
        )

    async def __aenter__(self) -> Publisher:
        """Connect (raises :class:`~exchange.client.exceptions.BusUnreachableError` and the
        like); a producer that did not start is closed again."""
        try:
            with translated(self.settings, f"publishing as {self.agency!r}"):
                await start_client(self._producer, self.settings)
        except BaseException:
            await self._producer.stop()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._producer.stop()

    def encode(
        self, event: BaseModel, *, topic: str | None = None, **attributes: Any
    ) -> EncodedEvent:
        """``event`` encoded as this publisher sends it to ``topic`` (default: its topic)."""
        topic = choose_topic(self.topology, self.agency, event, topic)
        check_sender(self.agency, event)
        return self.encoder.encode(event, topic=topic, source=self.source, **attributes)

    async def publish(
        self, event: BaseModel, *, topic: str | None = None, **attributes: Any
    ) -> PublishResult:
        """Send one event and wait until the broker has it (raises :class:`PublishError`)."""
        self.admit()
        topic = choose_topic(self.topology, self.agency, event, topic)
        check_sender(self.agency, event)
        encoded = self.encoder.encode(event, topic=topic, source=self.source, **attributes)
        result = await self.send_encoded(topic, encoded)
        await self.record_published(encoded, result)
        return result

    async def publish_many(
        self,
        events: Sequence[BaseModel],
        *,
        topic: str | None = None,
        ids: Sequence[str | None] | None = None,
    ) -> list[PublishResult]:
        """Send many events at once and wait until the broker has each; results in order.

        ``ids``: one ``ce_id`` per event (None: a fresh one). Raises
        :class:`BatchPublishError` (with every event's result or error) if any was refused.
        """
        self.admit()
        if ids is not None and len(ids) != len(events):
            raise ValueError(f"{len(ids)} ids for {len(events)} events")
        by_topic: dict[str, list[int]] = {}
        for index, event in enumerate(events):
            chosen = choose_topic(self.topology, self.agency, event, topic)
            check_sender(self.agency, event)
            by_topic.setdefault(chosen, []).append(index)
        encoded: dict[int, tuple[str, EncodedEvent]] = {}
        for chosen, indexes in by_topic.items():
            batch = self._encode_for(chosen, events, indexes, ids)
            for index, one in zip(indexes, batch, strict=True):
                encoded[index] = (chosen, one)
        futures = [
            await self.send_encoded_nowait(*encoded[index]) for index in range(len(events))
        ]
        results: list[PublishResult | PublishError] = []
        for future in futures:
            try:
                results.append(await future)
            except PublishError as error:
                results.append(error)
        for index, result in enumerate(results):
            if isinstance(result, PublishResult):
                await self.record_published(encoded[index][1], result)
        if any(isinstance(r, PublishError) for r in results):
            raise BatchPublishError(list(results))
        return [r for r in results if isinstance(r, PublishResult)]

    def _encode_for(
        self,
        topic: str,
        events: Sequence[BaseModel],
        indexes: list[int],
        ids: Sequence[str | None] | None,
    ) -> list[EncodedEvent]:
        return self.encoder.encode_batch(
            [events[i] for i in indexes], topic=topic, source=self.source,
            ids=[None if ids is None else ids[i] for i in indexes],
        )

    def admit(self) -> None:
        """Raise :class:`~exchange.evidence.exceptions.AuditUnavailableError` while the
        fail-closed audit policy refuses new events (nothing is sent then). Every path that
        sends through this publisher asks first: :meth:`publish`, :meth:`publish_many`, and a
        caller of :meth:`send_encoded_nowait` (a connector's source)."""
        if self.guard is not None:
            self.guard.check()

    async def record_published(self, encoded: EncodedEvent, result: PublishResult) -> None:
        """Record an acknowledged event in the audit trail (the one way every path does it).

        Raises :class:`~exchange.evidence.exceptions.AuditWriteError` when the record cannot
        be written: the event is on the bus, its audit record is not (the guard counts the
        failure towards the policy's limit)."""
        if self.audit is None:
            return
        try:
            await self.audit.record(
                "published", encoded.attributes, topic=result.topic,
                partition=result.partition, offset=result.offset,
            )
        except Exception as error:
            raise AuditWriteError(self.agency, encoded.attributes.id, result.topic,
                                  error) from error

    async def send_encoded(self, topic: str, encoded: EncodedEvent) -> PublishResult:
        """Send an encoded event and wait for the broker's acknowledgement."""
        return await (await self.send_encoded_nowait(topic, encoded))

    async def send_encoded_nowait(
        self, topic: str, encoded: EncodedEvent
    ) -> asyncio.Future[PublishResult]:
        """Queue an encoded event; the returned future resolves on the broker's acknowledgement.

        Lets a caller keep many events in flight (batching) while still learning the fate of
        each one: the future raises :class:`PublishError` if the broker refuses it.
        """
        started = time.perf_counter()
        event_type = encoded.attributes.type
        result: asyncio.Future[PublishResult] = asyncio.get_running_loop().create_future()
        try:
            sent = await self._producer.send(
                topic, value=encoded.value, key=encoded.key, headers=encoded.headers
            )
        except KafkaError as error:
            self._failed(topic, event_type, error, result)
            return result

        def done(ack: asyncio.Future[Any]) -> None:
            if result.done():  # the caller gave up waiting (cancelled): the ack comes too late
                return
            if ack.cancelled():
                result.cancel()
                return
            error = ack.exception()
            if error is not None:
                self._failed(topic, event_type, error, result)
                return
            metadata = ack.result()
            metrics = self.metrics
            metrics.child(metrics.published, topic, event_type, self.agency).inc()
            metrics.child(metrics.publish_seconds, topic, self.agency).observe(
                time.perf_counter() - started
            )
            result.set_result(PublishResult(
                topic=metadata.topic, partition=metadata.partition, offset=metadata.offset,
                event_id=encoded.attributes.id, key=encoded.key.decode(),
            ))

        sent.add_done_callback(done)
        return result

    def _failed(
        self, topic: str, event_type: str, error: BaseException,
        result: asyncio.Future[PublishResult],
    ) -> None:
        self.metrics.publish_errors.labels(
            topic, event_type, self.agency, type(error).__name__
        ).inc()
        failure = PublishError(topic, error)
        failure.__cause__ = error
        if not result.done():
            result.set_exception(failure)

    async def reachable(self) -> None:
        """Return when the bus answers a metadata request (raises ``KafkaError`` if none does)."""
        await self._producer.client.fetch_all_metadata()
