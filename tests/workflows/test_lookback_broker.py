"""Sightings read back from the broker for a case opened after them (workflows.lookback)."""

from __future__ import annotations

import logging
import uuid
from contextlib import aclosing
from datetime import UTC, datetime, timedelta

import pytest
from support.worker import publish, sighting

from exchange.codec import DecodeError, EventCodec
from exchange.protection.exceptions import VerificationError
from exchange.workflows.lookback import SIGHTINGS_TOPIC, SightingLog

pytestmark = pytest.mark.broker


def sighting_log(provisioned, **options: int) -> SightingLog:
    partitions = provisioned.topology.topic(SIGHTINGS_TOPIC).partitions
    return SightingLog(provisioned.kafka_as("workflows"), partitions, **options)


async def read_ids(log: SightingLog, start: datetime, provisioned) -> list[str]:
    """The ids of the sightings read back, opened as the worker opens them (other tests'
    poison and unsigned records count as "")."""
    found = []
    async with aclosing(log.since(start)) as records:
        async for record in records:
            try:
                event = provisioned.open_as("workflows", record).event
            except (DecodeError, VerificationError):
                event = None
            found.append(getattr(event, "sightingId", ""))
    return found


async def test_sightings_published_since_a_moment_are_read_back(
    provisioned, codec: EventCodec, caplog: pytest.LogCaptureFixture
) -> None:
    run = uuid.uuid4().hex[:6]
    before = datetime.now(UTC)
    mine = [sighting(f"B-{run}-{n}", facility=None, regionCode="610113") for n in range(3)]
    await publish(provisioned, codec, *mine)

    found = await read_ids(sighting_log(provisioned), before, provisioned)
    assert {s.sightingId for s in mine} <= set(found)
    assert len([i for i in found if i.startswith(f"B-{run}-")]) == 3  # each record once

    # Nothing was published an hour from now (the clock margin is minutes, not hours).
    assert await read_ids(sighting_log(provisioned), before + timedelta(hours=1), provisioned) == []

    with caplog.at_level(logging.WARNING, logger="exchange.workflows.lookback"):
        capped = await read_ids(sighting_log(provisioned, max_records=2), before, provisioned)
    assert len(capped) == 2
    assert "the most allowed" in caplog.text
