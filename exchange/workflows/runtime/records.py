"""A consumed record as the runtime sees it, and its dedupe key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import faust


class Incoming(NamedTuple):
    """The parts of a faust event the guard needs (shaped like an aiokafka ConsumerRecord)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def incoming(event: faust.types.EventT[bytes]) -> Incoming:
    message = event.message
    raw = message.headers or []
    headers = list(raw.items()) if isinstance(raw, Mapping) else list(raw)
    return Incoming(
        message.topic, message.partition, message.offset, message.key, message.value, headers
    )


def dedupe_key(record: Incoming) -> str | None:
    """``ce_source`` + ``ce_id`` of a record; None when it lacks them (then decoding fails)."""
    headers = dict(record.headers)
    source, event_id = headers.get("ce_source"), headers.get("ce_id")
    if not source or not event_id:
        return None
    return f"{source.decode(errors='replace')}\x1f{event_id.decode(errors='replace')}"
