"""Reading back the sightings published since a moment: for a case reported after its sightings.

A family often reports a child missing hours after the child was last seen, and transport staff
may have reported the child in between. Those sightings were handled before the case existed,
so the live matching (:mod:`exchange.workflows.matching`) never compared them with it. When a new
case opens, the matching workflow reads ``exchange.sighting`` back from the case's last-seen
time (Kafka keeps sightings for the topic's retention, 7 days) and scores each sighting against
the new case.

The read is a plain consumer without a group (partitions assigned by hand, nothing committed),
from the offsets of the records published at or after the start time up to the end offsets taken
when the read begins. It is bounded by :data:`MAX_RECORDS`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from datetime import datetime, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition

from exchange.settings import KafkaSettings
from exchange.tls.kafka import start_client
from exchange.workflows.runtime import Incoming

log = logging.getLogger(__name__)

SIGHTINGS_TOPIC = "exchange.sighting"
MAX_RECORDS = 100_000
"""At most this many sightings are read back for one case (about 20 s of reading); the rest are
left out, and a warning says from when."""
CLOCK_MARGIN = timedelta(minutes=10)
"""Records published this long before the start are read too: a reporter's clock may run ahead
of the broker's (a sighting's ``observedAt`` is the reporter's time)."""


class SightingLog:
    """The sightings on ``exchange.sighting``, read back as the workflows principal."""

    def __init__(
        self, kafka: KafkaSettings, partitions: int, *, max_records: int = MAX_RECORDS
    ) -> None:
        self.kafka = kafka
        self.partitions = [TopicPartition(SIGHTINGS_TOPIC, p) for p in range(partitions)]
        self.max_records = max_records

    async def since(self, start: datetime) -> AsyncGenerator[Incoming, None]:
        """Every record published at or after ``start`` (less :data:`CLOCK_MARGIN`) and before
        the read began (in order within a partition), at most :attr:`max_records`.

        Iterate it inside ``contextlib.aclosing``: its consumer is stopped when the iteration
        ends, also when the caller stops early or raises."""
        consumer = AIOKafkaConsumer(
            **self.kafka.aiokafka_kwargs(), group_id=None, enable_auto_commit=False
        )
        await start_client(consumer, self.kafka)
        try:
            ends = await consumer.end_offsets(self.partitions)
            since_ms = int((start - CLOCK_MARGIN).timestamp() * 1000)
            found = await consumer.offsets_for_times(dict.fromkeys(self.partitions, since_ms))
            todo = {
                partition: ends[partition] for partition, at in found.items()
                if at is not None and at.offset < ends[partition]
            }
            if not todo:
                return
            consumer.assign(list(todo))
            for partition in todo:
                consumer.seek(partition, found[partition].offset)
            read = 0
            while todo:
                batch = await consumer.getmany(*todo, timeout_ms=1000, max_records=500)
                for partition, records in batch.items():
                    end = todo[partition]
                    for record in records:
                        if record.offset >= end:
                            break
                        if read >= self.max_records:
                            log.warning(
                                "read back %d sightings since %s, the most allowed; the later "
                                "ones (from %s[%d]@%d) were not compared with the new case",
                                read, start.isoformat(), SIGHTINGS_TOPIC, record.partition,
                                record.offset,
                            )
                            return
                        read += 1
                        yield Incoming(
                            record.topic, record.partition, record.offset, record.key,
                            record.value, list(record.headers),
                        )
                for partition in list(todo):
                    if await consumer.position(partition) >= todo[partition]:
                        del todo[partition]
        finally:
            await consumer.stop()
