"""The encoder seam: how an event becomes a record for a given topic.

Every path that sends events (the :class:`~exchange.client.publisher.Publisher`, the workflows'
``Streams.emit``) holds one :class:`EventEncoder`, chosen once when it is built:
:class:`PlainEncoder` here, or :class:`exchange.protection.encoder.ProtectedEncoder`, which
seals each event for the readers of its topic and signs it. Nothing encodes twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from exchange.codec.codec import EncodedEvent, EventCodec

__all__ = ["EventEncoder", "PlainEncoder"]


class EventEncoder(Protocol):
    per_topic: bool
    """True when the encoding depends on the topic (sealed for its readers): an event sent to
    several topics is then encoded once per topic."""

    def encode(
        self, event: BaseModel, *, topic: str, source: str, id: str | None = None,
        time: datetime | None = None,
    ) -> EncodedEvent: ...

    def encode_batch(
        self, events: Sequence[BaseModel], *, topic: str, source: str,
        ids: Sequence[str | None] | None = None,
    ) -> list[EncodedEvent]: ...


class PlainEncoder:
    """Avro single-object encoding with CloudEvents headers, the same for every topic."""

    per_topic = False

    def __init__(self, codec: EventCodec) -> None:
        self.codec = codec

    def encode(
        self, event: BaseModel, *, topic: str, source: str, id: str | None = None,
        time: datetime | None = None,
    ) -> EncodedEvent:
        return self.codec.encode(event, source=source, id=id, time=time)

    def encode_batch(
        self, events: Sequence[BaseModel], *, topic: str, source: str,
        ids: Sequence[str | None] | None = None,
    ) -> list[EncodedEvent]:
        if ids is not None and len(ids) != len(events):
            raise ValueError(f"{len(ids)} ids for {len(events)} events")
        chosen = ids if ids is not None else [None] * len(events)
        return [
            self.codec.encode(event, source=source, id=event_id)
            for event, event_id in zip(events, chosen, strict=True)
        ]
