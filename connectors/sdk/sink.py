"""Sinks: events from the bus into an agency system, at least once, in order per case.

An adapter implements :meth:`Sink.deliver` for one event. The base class reads the config's
topics as its agency in consumer group ``<agency>.connect.<name>`` with
:class:`exchange.client.consumer.EventConsumer`: records one at a time, in partition order (so
one case's events, which share a key, arrive in order), offsets committed after each batch.
Each record is verified and opened as the agency first: one unsigned, forged, tampered,
replayed or signed with a revoked key goes to ``exchange.quarantine.<agency>`` with its reason
and never reaches ``deliver``; ``deliver`` sees the fields the agency may read, the others as
placeholders.

A delivery that raises :class:`~connectors.sdk.exceptions.DeliveryError` is retried with the
config's backoff; a :class:`~connectors.sdk.exceptions.PermanentDeliveryError`, any other error,
or the last failed attempt sends the record to the dead-letter topic (the consumer adds
``exchange.error.*`` and ``exchange.original.*`` headers; the message names the connector and
the number of attempts) and the sink goes on with the next record. A record that could not
be decoded is dead-lettered the same way without reaching ``deliver``.

Stopping while a record waits for a retry leaves its batch uncommitted: after the restart it
is delivered again. Targets therefore receive an idempotency key (``ce_source`` + ``ce_id``)
with every delivery; ``deliver`` must make a repeat harmless (the webhook sends it as a
header, the CAP folder overwrites the same file).
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod

from aiokafka import ConsumerRecord
from pydantic import Field

from connectors.sdk.base import C, Connector
from connectors.sdk.config import ConnectorConfig
from connectors.sdk.retry import Interrupted, with_retries
from exchange.client.consumer import EventConsumer
from exchange.codec import DecodedEvent


class SinkConfig(ConnectorConfig):
    topics: tuple[str, ...] = Field(min_length=1, description="Topics to read (as the agency).")
    group_id: str | None = Field(None, description="Default: <agency>.connect.<name>.")
    max_records: int = Field(100, ge=1, description="Records per batch (per offset commit).")

    @property
    def group(self) -> str:
        return self.group_id or f"{self.agency}.connect.{self.name}"


def idempotency_key(decoded: DecodedEvent) -> str:
    """``ce_source`` + ``ce_id``: the same for every delivery of the same event."""
    return f"{decoded.attributes.source}#{decoded.attributes.id}"


class Sink(Connector[C]):
    """Base of every sink; ``config`` must be a :class:`SinkConfig`."""

    _consumer: EventConsumer | None = None
    _stop: asyncio.Event | None = None

    @abstractmethod
    async def deliver(self, decoded: DecodedEvent, record: ConsumerRecord) -> None:
        """Hand one event to the target; raise DeliveryError to have it retried."""

    @property
    def sink_config(self) -> SinkConfig:
        config = self.config
        if not isinstance(config, SinkConfig):
            raise TypeError(f"{type(self).__name__} needs a SinkConfig")
        return config

    async def setup(self) -> None:
        config = self.sink_config
        self._consumer = EventConsumer(
            self.kafka(),
            self.context.codec,
            config.topics,
            agency=config.agency,
            group_id=config.group,
            deadletter_topic=config.deadletter,
            metrics=self.context.bus_metrics,
            protection=self.protection(),
            max_records=config.max_records,
        )
        await self._consumer.start()

    async def close(self) -> None:
        try:
            if self._consumer is not None:
                await self._consumer.stop()
        finally:
            self._consumer = None
            await super().close()

    async def run(self, stop: asyncio.Event) -> None:
        consumer = self._consumer
        if consumer is None:
            raise RuntimeError("call setup() first")
        self._stop = stop
        try:
            while not stop.is_set():
                await consumer.poll_once(self._handle, timeout_ms=200)
        except Interrupted:
            return  # the batch stays uncommitted: delivered again after a restart

    async def _handle(self, decoded: DecodedEvent, record: ConsumerRecord) -> None:
        started = asyncio.get_running_loop().time()
        try:
            await with_retries(
                lambda: self.deliver(decoded, record),
                self.config.retry,
                what=f"connector {self.name}: {record.topic}[{record.partition}]@{record.offset}",
                connector=self.name,
                metrics=self.metrics,
                stop=self._stop,
            )
        except Exception:
            # Retries exhausted, a permanent refusal or a bug: the consumer dead-letters the
            # record with this error, then goes on.
            self.metrics.records.labels(self.name, "dead_lettered").inc()
            raise
        self.metrics.records.labels(self.name, "delivered").inc()
        self.metrics.seconds.labels(self.name).observe(asyncio.get_running_loop().time() - started)
