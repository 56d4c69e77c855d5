"""Test a connector against the real broker in a few lines.

Given connection settings per agency (from a provisioned test broker), the harness runs a
connector in the background, publishes events as any agency, and reads what arrived on a topic
or in a dead-letter topic, filtered to the records of the test. ``protection_for`` gives each
agency's protected codec: the harness publishes sealed and signed, as every agency does, and
reads back verified and opened as the reading agency (a record that fails verification is
read back with ``decoded`` None and the reason in ``refused``)::

    harness = ConnectorHarness(kafka_for, topology, codec, state_dir=tmp_path,
                               protection_for=protection_for)
    config = harness.config(FileDropConfig, kind="file-drop", name="my-test", ...)
    async with harness.running(FileDropSource(config, harness.context)):
        events = await harness.read("exchange.sighting", agency="police", count=3,
                                    source=config.ce_source)

The project's own tests get a ready harness from the ``harness`` fixture in
``tests/connectors/conftest.py`` (see connectors/GUIDE.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from connectors.sdk.base import Connector, ConnectorContext
from connectors.sdk.config import ConnectorConfig
from exchange.client.publisher import Publisher, PublishResult
from exchange.codec import DecodedEvent, EventCodec
from exchange.metrics import BusMetrics
from exchange.protection.exceptions import VerificationError
from exchange.protection.protected import ProtectedCodec
from exchange.protection.unprotected import Unprotected
from exchange.settings import KafkaSettings
from exchange.tls.pki import LocalPki
from exchange.topology.model import Topology

C = TypeVar("C", bound=ConnectorConfig)


@dataclass(frozen=True)
class Received:
    """A record read back: its headers as text, and the decoded event (None if undecodable)."""

    record: ConsumerRecord
    headers: dict[str, str]
    decoded: DecodedEvent | None
    refused: str | None = None
    """Why verification refused the record (``unsigned``, ...), if it did."""


@dataclass
class ConnectorHarness:
    kafka_for: Callable[[str], KafkaSettings]
    topology: Topology
    codec: EventCodec
    state_dir: Path
    protection_for: Callable[[str], ProtectedCodec | Unprotected]
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    pki: LocalPki | None = None

    @property
    def context(self) -> ConnectorContext:
        return ConnectorContext(
            self.kafka_for, self.topology, self.codec, self.registry, self.protection_for,
            pki=self.pki,
        )

    @staticmethod
    def unique_name(stem: str) -> str:
        """A fresh connector name (so tests never share a group, progress file or source)."""
        return f"{stem}-{uuid.uuid4().hex[:8]}"

    def config(self, model: type[C], **fields: Any) -> C:
        """A config of ``model`` keeping its state in the harness's folder."""
        fields.setdefault("state_dir", self.state_dir)
        return model.model_validate(fields)

    @contextlib.asynccontextmanager
    async def running(self, connector: Connector[Any]) -> AsyncIterator[Connector[Any]]:
        """Run ``connector.serve`` in the background; on exit stop it and wait for it (its
        errors are raised here)."""
        stop = asyncio.Event()
        task = asyncio.create_task(connector.serve(stop), name=f"connector {connector.name}")
        try:
            yield connector
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)

    async def publish(
        self,
        event: BaseModel,
        *,
        agency: str,
        topic: str | None = None,
        source: str | None = None,
        **attributes: Any,
    ) -> PublishResult:
        """Publish ``event`` as ``agency`` (source default ``/agencies/<agency>/test/harness``)."""
        async with Publisher(
            self.kafka_for(agency),
            self.codec,
            self.topology,
            agency=agency,
            source=source or f"/agencies/{agency}/test/harness",
            metrics=BusMetrics.on(self.registry),
            protection=self.protection_for(agency),
        ) as publisher:
            return await publisher.publish(event, topic=topic, **attributes)

    async def read(
        self,
        topic: str,
        *,
        agency: str,
        count: int,
        within: float = 30.0,
        source: str | None = None,
        where: Callable[[Received], bool] | None = None,
        settle: float = 0.0,
    ) -> list[Received]:
        """Records of ``topic`` (from the start, as ``agency``) whose ``ce_source`` is ``source``
        and that ``where`` accepts, until ``count`` are found or ``within`` seconds pass; then keep
        reading ``settle`` seconds more, so that a test can see records it did not expect."""
        consumer = AIOKafkaConsumer(
            topic,
            **self.kafka_for(agency).aiokafka_kwargs(),
            group_id=f"{agency}.test.{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        protection = self.protection_for(agency)
        reader = protection if isinstance(protection, ProtectedCodec) else None
        found: list[Received] = []
        try:
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=200)
                for records in batches.values():
                    for record in records:
                        received = self._received(record, reader)
                        if source is not None and received.headers.get("ce_source") != source:
                            continue
                        if where is None or where(received):
                            found.append(received)
                if len(found) >= count:
                    deadline = min(deadline, time.monotonic() + settle)
                    if settle <= 0:
                        break
        finally:
            await consumer.stop()
        return found

    def _received(self, record: ConsumerRecord, reader: ProtectedCodec | None) -> Received:
        headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
        if reader is None or "exchange.error.reason" in headers:  # a dead letter: as it is
            try:
                return Received(record, headers, self.codec.decode(
                    record.value, record.headers or ()
                ))
            except ValueError:
                return Received(record, headers, None)
        try:
            decoded = reader.decode(
                record.key, record.value, record.headers or (),
                (record.topic, record.partition, record.offset),
            ).decoded
        except VerificationError as error:
            return Received(record, headers, None, error.reason)
        except ValueError:
            return Received(record, headers, None)
        return Received(record, headers, decoded)

    @staticmethod
    async def until(predicate: Callable[[], object], within: float = 30.0) -> None:
        """Wait until ``predicate()`` is true (AssertionError after ``within`` seconds)."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {within} s: {predicate}")
            await asyncio.sleep(0.05)

    def metric(self, name: str, **labels: str) -> float:
        """A sample's value from the harness's registry (0 when absent)."""
        value = self.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value
