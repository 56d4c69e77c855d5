"""Quarantine: the one call a consumer makes to verify and open a record, or set it aside.

:meth:`Quarantine.open` returns the :class:`~exchange.protection.protected.OpenedEvent`, or,
when verification fails (unsigned, forged, tampered, replayed, revoked or uncertified key,
bad envelope),
copies the record unchanged to ``exchange.quarantine.<agency>`` with the reason in headers
(the dead-letter header names: ``exchange.error.reason``, ``exchange.original.topic``, ...),
counts it in ``exchange_events_quarantined_total{topic,reason,agency}``, records it in the audit
trail, and returns None: the caller must not act on it. A record that verifies but does not
decode raises :class:`~exchange.codec.exceptions.DecodeError` as before (dead-letter it).

Any consumer can use it: :class:`exchange.client.consumer.EventConsumer` does, and a faust
worker does by giving ``send`` as a coroutine that writes to the quarantine topic.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from exchange.codec import CloudEventAttributes
from exchange.metrics import BusMetrics
from exchange.protection.audit import AuditTrail
from exchange.protection.exceptions import VerificationError
from exchange.protection.protected import OpenedEvent, ProtectedCodec

log = logging.getLogger(__name__)

MAX_ERROR_TEXT = 2000
Send = Callable[[str, bytes | None, bytes | None, list[tuple[str, bytes]]], Awaitable[object]]
"""``send(topic, key, value, headers)``: write one record and wait for the broker."""


class RecordLike(Protocol):
    """What is needed of a record (an aiokafka ``ConsumerRecord`` or the worker's ``Incoming``)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]] | None: ...


def quarantine_topic(agency: str) -> str:
    return f"exchange.quarantine.{agency}"


def quarantine_headers(
    record: RecordLike, error: VerificationError, group: str
) -> list[tuple[str, bytes]]:
    added = [
        ("exchange.error.reason", error.reason),
        ("exchange.error.class", type(error).__name__),
        ("exchange.error.message", str(error)[:MAX_ERROR_TEXT]),
        ("exchange.original.topic", record.topic),
        ("exchange.original.partition", str(record.partition)),
        ("exchange.original.offset", str(record.offset)),
        ("exchange.consumer.group", group),
    ]
    return [*list(record.headers or ()), *((k, v.encode()) for k, v in added)]


def claimed_attributes(record: RecordLike) -> CloudEventAttributes:
    """The CloudEvents attributes a refused record claims (unverified: for the audit only)."""
    found = dict(record.headers or ())

    def text(name: str) -> str:
        return bytes(found.get(name, b"")).decode(errors="replace")

    return CloudEventAttributes(
        text("ce_id"), text("ce_source"), text("ce_type"), datetime.now(UTC),
        text("ce_subject"), text("ce_dataschema"), text("content-type"), text("ce_specversion"),
    )  # fmt: skip


class Quarantine:
    """Verify-and-open for one consuming agency, quarantining what fails (see module docs)."""

    def __init__(
        self,
        protected: ProtectedCodec,
        send: Send,
        metrics: BusMetrics,
        *,
        agency: str,
        group: str,
        topic: str | None = None,
        audit: AuditTrail | None = None,
    ) -> None:
        self.protected = protected
        self.send = send
        self.metrics = metrics
        self.agency = agency
        self.group = group
        self.topic = topic or quarantine_topic(agency)
        self.audit = audit

    async def open(self, record: RecordLike) -> OpenedEvent | None:
        """The verified, opened event; None when it was quarantined (do not act on it)."""
        try:
            return self.protected.decode(
                record.key, record.value, record.headers or (),
                (record.topic, record.partition, record.offset),
            )  # fmt: skip
        except VerificationError as error:
            await self.put(record, error)
            return None

    async def put(self, record: RecordLike, error: VerificationError) -> None:
        await self.send(
            self.topic, record.key, record.value, quarantine_headers(record, error, self.group)
        )
        self.metrics.quarantined.labels(record.topic, error.reason, self.agency).inc()
        log.warning(
            "quarantined %s[%d]@%d to %s: %s", record.topic, record.partition, record.offset,
            self.topic, error.reason,
        )  # fmt: skip
        if self.audit is not None:
            await self.audit.record(
                "quarantined", claimed_attributes(record), topic=record.topic,
                partition=record.partition, offset=record.offset, detail=error.reason,
            )  # fmt: skip
