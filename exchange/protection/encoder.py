"""The protected :class:`~exchange.codec.encoder.EventEncoder`: each event sealed for the
readers of its topic (by the topology) and signed by its agency."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel

from exchange.codec import EncodedEvent
from exchange.protection.protected import ProtectedCodec
from exchange.topology.model import Topology

__all__ = ["ProtectedEncoder"]


class ProtectedEncoder:
    per_topic = True

    def __init__(self, protected: ProtectedCodec, topology: Topology) -> None:
        self.protected = protected
        self.topology = topology
        self._readers: dict[str, tuple[str, ...]] = {}

    def readers_of(self, topic: str) -> tuple[str, ...]:
        found = self._readers.get(topic)
        if found is None:
            found = self._readers[topic] = tuple(self.topology.topic(topic).readers)
        return found

    def encode(
        self, event: BaseModel, *, topic: str, source: str, id: str | None = None,
        time: datetime | None = None,
    ) -> EncodedEvent:
        return self.protected.encode(
            event, source=source, readers=self.readers_of(topic), id=id, time=time
        )

    def encode_batch(
        self, events: Sequence[BaseModel], *, topic: str, source: str,
        ids: Sequence[str | None] | None = None,
    ) -> list[EncodedEvent]:
        """Sealed each, signed together with one batch signature (each verifies alone)."""
        return self.protected.encode_batch(
            events, source=source, readers=self.readers_of(topic), ids=ids
        )
