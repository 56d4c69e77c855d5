"""Publish standardized events as an agency: validate, encode, send, confirm.

The publisher encodes with :class:`exchange.codec.EventCodec` (Avro single-object encoding plus
CloudEvents headers), picks the topic from the topology (the topics that carry this event type
and that the agency may write; a referral goes to the inbox of its ``toAgency``), and waits for
the broker's acknowledgement (``acks=all``, idempotent producer) before reporting success.

Every publisher is protected unless built, on purpose, with an
:class:`~exchange.protection.unprotected.Unprotected` (there is no default): each event is sealed
for the entitled readers of its topic and signed by the agency. Signatures are shared, so a
caller publishing one event at a time pays little for them: :meth:`Publisher.publish` seals its
event at once and queues it; the events queued within the producer's linger window (``linger_ms``;
0: within the same turn of the event loop) are signed together with one Merkle-tree signature
(:mod:`exchange.protection.batch`), each carrying its own audit path so each verifies alone, then
sent in the order they were published. :meth:`Publisher.publish_many` signs its whole list with
one signature the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
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
from exchange.evidence.guard import AuditGuard
from exchange.metrics import BusMetrics
from exchange.models.registry import spec_for_model
from exchange.protection.audit import AuditTrail
from exchange.protection.encoder import ProtectedEncoder
from exchange.protection.protected import ProtectedCodec
from exchange.protection.unprotected import Unprotected
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
        protection: ProtectedCodec | Unprotected,
        linger_ms: int = 5,
        sign_batch_max: int = 500,
        audit: AuditTrail | None = None,
        guard: AuditGuard | None = None,
    ) -> None:
        """``protection``: the agency's :class:`ProtectedCodec` (every event sealed for the
        readers of its topic and signed; events published within ``linger_ms`` share one
        signature, at most ``sign_batch_max`` of them), or an explicit :class:`Unprotected`.
        With ``audit``, every acknowledged event is recorded in the audit trail; with ``guard``,
        no event is accepted while the fail-closed audit policy refuses them
        (:class:`~exchange.evidence.exceptions.AuditUnavailableError`)."""
        if protection is None:  # an untyped caller: refuse rather than send in the clear
            raise TypeError("Publisher needs protection: a ProtectedCodec, or Unprotected(reason)")
        self.settings = settings
        self.codec = codec
        self.topology = topology
        self.agency = agency
        self.source = source
        self.metrics = metrics
        self.protection = protection if isinstance(protection, ProtectedCodec) else None
        self.unprotected = protection if isinstance(protection, Unprotected) else None
        self._sealing = (
            None if self.protection is None else ProtectedEncoder(self.protection, topology)
        )
        self.encoder: EventEncoder = (
            self._sealing if self._sealing is not None else PlainEncoder(codec)
        )
        """Chosen once: every event this publisher sends is encoded by it."""
        self.audit = audit
        self.guard = guard
        self.linger_s = max(0, linger_ms) / 1000
        self.sign_batch_max = sign_batch_max
        self._pending: list[tuple[str, EncodedEvent, asyncio.Future[PublishResult]]] = []
        self._flush_timer: asyncio.TimerHandle | None = None
        self._sending: asyncio.Task[None] | None = None
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
        if self.unprotected is not None:
            self.unprotected.warn(f"the publisher of {self.agency!r}")
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
        try:
            await self.flush()
        finally:
            await self._producer.stop()

    def encode(
        self, event: BaseModel, *, topic: str | None = None, **attributes: Any
    ) -> EncodedEvent:
        """``event`` encoded as this publisher sends it to ``topic`` (default: its topic),
        signed alone (to share a signature, :meth:`seal` several and :meth:`sign` them)."""
        topic = choose_topic(self.topology, self.agency, event, topic)
        check_sender(self.agency, event)
        return self.encoder.encode(event, topic=topic, source=self.source, **attributes)

    def seal(
        self, event: BaseModel, *, topic: str, id: str | None = None,
        time: datetime | None = None,
    ) -> EncodedEvent:
        """``event`` encoded for ``topic`` with its tagged fields sealed for the topic's
        readers, not yet signed (:meth:`sign`); unprotected: the plain encoding."""
        if self._sealing is None:
            return self.encoder.encode(event, topic=topic, source=self.source, id=id, time=time)
        return self._sealing.protected.seal(
            event, source=self.source, readers=self._sealing.readers_of(topic), id=id, time=time
        )

    def sign(self, encoded: Sequence[EncodedEvent]) -> None:
        """Sign sealed events (from :meth:`seal`, any topics) with one signature, in place;
        each gets its own ``exchange.sig`` header and verifies alone. Unprotected: nothing."""
        if self.protection is None or not encoded:
            return
        signatures = self.protection.signer.headers(
            [(e.key, e.value, e.headers) for e in encoded]
        )
        for one, signature in zip(encoded, signatures, strict=True):
            one.headers.append(signature)

    async def publish(
        self, event: BaseModel, *, topic: str | None = None, **attributes: Any
    ) -> PublishResult:
        """Send one event and wait until the broker has it (raises :class:`PublishError`)."""
        if self.guard is not None:
            self.guard.check()
        topic = choose_topic(self.topology, self.agency, event, topic)
        check_sender(self.agency, event)
        encoded = self.seal(event, topic=topic, **attributes)
        if self.protection is None:
            result = await self.send_encoded(topic, encoded)
        else:
            result = await self._queue_for_signature(topic, encoded)
        await self._audit_published(encoded, result)
        return result

    async def _queue_for_signature(self, topic: str, encoded: EncodedEvent) -> PublishResult:
        """Wait for the batch signature of the events queued within the linger window, then
        for the broker's acknowledgement of this one."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[PublishResult] = loop.create_future()
        self._pending.append((topic, encoded, waiter))
        if len(self._pending) >= self.sign_batch_max:
            self._sign_and_send()
        elif self._flush_timer is None:
            self._flush_timer = loop.call_later(self.linger_s, self._sign_and_send)
        return await waiter

    def _sign_and_send(self) -> None:
        """Sign what is queued with one signature and hand it to the sender task (which sends
        batches one after the other, so events leave in the order they were published)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            self.sign([encoded for _, encoded, _ in pending])
        except Exception as error:  # noqa: BLE001 - each waiting caller learns why
            for _, _, waiter in pending:
                if not waiter.done():
                    waiter.set_exception(error)
            return
        self._sending = asyncio.ensure_future(self._send_signed(pending, self._sending))

    async def _send_signed(
        self,
        pending: list[tuple[str, EncodedEvent, asyncio.Future[PublishResult]]],
        previous: asyncio.Task[None] | None,
    ) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        for topic, encoded, waiter in pending:
            try:
                ack = await self.send_encoded_nowait(topic, encoded)
            except Exception as error:  # noqa: BLE001 - handed to the caller waiting for it
                if not waiter.done():
                    waiter.set_exception(error)
                continue
            ack.add_done_callback(functools.partial(_relay, waiter=waiter))

    async def flush(self) -> None:
        """Sign and send what is queued now and wait until it is handed to the producer."""
        self._sign_and_send()
        if self._sending is not None:
            with contextlib.suppress(Exception):
                await self._sending

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
        if self.guard is not None:
            self.guard.check()
        if ids is not None and len(ids) != len(events):
            raise ValueError(f"{len(ids)} ids for {len(events)} events")
        by_topic: dict[str, list[int]] = {}
        for index, event in enumerate(events):
            chosen = choose_topic(self.topology, self.agency, event, topic)
            check_sender(self.agency, event)
            by_topic.setdefault(chosen, []).append(index)
        encoded: dict[int, tuple[str, EncodedEvent]] = {}
        for chosen, indexes in by_topic.items():
            for index in indexes:
                encoded[index] = (chosen, self.seal(
                    events[index], topic=chosen, id=None if ids is None else ids[index]
                ))
        self.sign([one for _, one in encoded.values()])  # one signature for the whole list
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
                await self._audit_published(encoded[index][1], result)
        if any(isinstance(r, PublishError) for r in results):
            raise BatchPublishError(list(results))
        return [r for r in results if isinstance(r, PublishResult)]

    async def _audit_published(self, encoded: EncodedEvent, result: PublishResult) -> None:
        if self.audit is not None:
            await self.audit.record(
                "published", encoded.attributes, topic=result.topic,
                partition=result.partition, offset=result.offset,
            )

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


def _relay(ack: asyncio.Future[PublishResult], waiter: asyncio.Future[PublishResult]) -> None:
    """Pass the broker's answer for one event on to the caller waiting for it."""
    if waiter.done():
        return
    if ack.cancelled():
        waiter.cancel()
    elif ack.exception() is not None:
        waiter.set_exception(ack.exception())  # type: ignore[arg-type]
    else:
        waiter.set_result(ack.result())
