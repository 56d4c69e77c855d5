"""The sending side: the ``transport`` agency publishes sightings, pre-loaded or paced."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from prometheus_client import CollectorRegistry

from benchmarks.worker_throughput.names import SOURCE_TOPIC, police_sighting, sighting_id
from benchmarks.worker_throughput.processes import Worker
from benchmarks.worker_throughput.receiver import WARM_UP_AT_MOST_S
from exchange.client.publisher import Publisher
from exchange.codec import EventCodec
from exchange.metrics import BusMetrics
from exchange.protection.unprotected import Unprotected
from exchange.settings import KafkaSettings
from exchange.topology.model import Topology


class Sender:
    def __init__(
        self, transport: KafkaSettings, codec: EventCodec, topology: Topology, run: str
    ) -> None:
        self.transport, self.codec, self.topology, self.run = transport, codec, topology, run
        self.sighting = police_sighting()

    def _publisher(self) -> Publisher:
        return Publisher(
            self.transport, self.codec, self.topology, agency="transport",
            source=f"/agencies/transport/bench/{self.run}",
            metrics=BusMetrics.on(CollectorRegistry()),
            protection=Unprotected("benchmark: the unprotected baseline"),
        )

    async def _send(self, publisher: Publisher, tag: str, seq: int, sent_ns: int) -> Any:
        event_id = sighting_id(self.run, tag, seq, sent_ns)
        event = self.sighting.model_copy(update={"sightingId": event_id})
        return await publisher.send_encoded_nowait(
            SOURCE_TOPIC, publisher.encode(event, id=event_id)
        )

    def preload(self, tag: str, records: int) -> None:
        async def go() -> None:
            async with self._publisher() as publisher:
                pending = [await self._send(publisher, tag, i, 0) for i in range(records)]
                await asyncio.gather(*pending)

        asyncio.run(go())

    def paced(
        self, warm: Any, rate: float, seconds: float, worker: Worker | None, tag: str
    ) -> tuple[float, float]:
        """Warm up at ``rate`` until the receiver sees the steady state (:data:`WARM_STREAK`),
        then the measured sightings.

        Returns the rate achieved by the measured part and how long the warm-up took."""

        async def go() -> tuple[float, float]:
            async with self._publisher() as publisher:
                started = time.monotonic()
                seq = 0
                while not warm.is_set() and time.monotonic() < started + WARM_UP_AT_MOST_S:
                    if worker is not None:
                        worker.check_alive()
                    await self._at_rate(publisher, f"{tag}W", rate, 1.0, first=seq)
                    seq += round(rate)
                warmed_s = time.monotonic() - started if warm.is_set() else float("inf")
                return await self._at_rate(publisher, tag, rate, seconds), warmed_s

        return asyncio.run(go())

    async def _at_rate(
        self, publisher: Publisher, tag: str, rate: float, seconds: float, first: int = 0
    ) -> float:
        count = round(rate * seconds)
        interval_ns = 1e9 / rate
        start_ns = time.time_ns() + 10_000_000
        pending = []
        for i in range(count):
            due_ns = start_ns + round(i * interval_ns)
            wait_ns = due_ns - time.time_ns()
            if wait_ns > 0:
                await asyncio.sleep(wait_ns / 1e9)
            pending.append(await self._send(publisher, tag, first + i, due_ns))
        last_sent_ns = time.time_ns()
        await asyncio.gather(*pending)
        return count / max((last_sent_ns - start_ns) / 1e9, 1e-9) if count > 1 else 0.0
