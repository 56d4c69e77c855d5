"""What the main job's workflow acts share: a worker on a compressed clock, the agencies
publishing as themselves, inboxes watched and each event shown with the seconds since the act
began (:mod:`exchange.demo.workflows`, :mod:`exchange.demo.referrals`)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from exchange.client.publisher import Publisher
from exchange.metrics import BusMetrics
from exchange.protection.exceptions import VerificationError
from exchange.settings import KafkaSettings
from exchange.topology.model import Topology

if TYPE_CHECKING:
    from exchange.demo.keys import DemoKeys

KafkaAs = Callable[[str], KafkaSettings]
AGENCY = "workflows"  # the worker's agency (exchange.workflows.runtime.AGENCY)


class Act:
    """An act: publishes as any agency, watches inboxes, says what happened and when.

    Subclasses show the events they care about in :meth:`on_event`."""

    name = "demo-act"  # the watchers' consumer groups: <agency>.<name>.<run>

    def __init__(self, topology: Topology, kafka_as: KafkaAs, keys: DemoKeys) -> None:
        self.topology, self.kafka_as, self.keys = topology, kafka_as, keys
        self.run = uuid.uuid4().hex[:6].upper()
        self.started = time.monotonic()
        self.publishers: dict[str, Publisher] = {}

    def say(self, text: str) -> None:
        print(f"  [+{time.monotonic() - self.started:5.1f}s] {text}", flush=True)

    async def publish(self, agency: str, event: BaseModel) -> None:
        publisher = self.publishers.get(agency)
        if publisher is None:
            publisher = self.publishers[agency] = Publisher(
                self.kafka_as(self.topology.principal_of(agency)), self.keys.codec,
                self.topology, agency=agency, source=f"/agencies/{agency}/demo",
                metrics=BusMetrics.on(CollectorRegistry()),
                protection=self.keys.codec_for(agency),  # sealed for the readers, signed
            )
            await publisher.__aenter__()
        await publisher.publish(self.keys.personalise(event))

    async def on_event(self, agency: str, event: BaseModel) -> None:
        raise NotImplementedError

    async def watch(self, agency: str, topic: str, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            topic, **self.kafka_as(self.topology.principal_of(agency)).aiokafka_kwargs(),
            group_id=f"{agency}.{self.name}.{self.run}", auto_offset_reset="latest",
        )
        await consumer.start()
        try:
            while not consumer.assignment():
                await consumer.getmany(timeout_ms=100)
            while not stop.is_set():
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        try:
                            opened = self.keys.codec_for(agency).decode(
                                record.key, record.value, record.headers,
                                (record.topic, record.partition, record.offset),
                            )  # fmt: skip
                        except VerificationError as error:
                            self.say(f"{agency} refuses {record.topic}@{record.offset}: "
                                     f"{error.reason}")
                            continue
                        await self.on_event(agency, opened.decoded.event)
        finally:
            await consumer.stop()

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float = 60) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return True
            await asyncio.sleep(0.1)
        self.say("(not seen in time)")
        return False

    async def perform(
        self, scenario: Callable[[], Awaitable[None]], watch: Sequence[tuple[str, str]],
        state_dir: Path, time_scale: float, worker: subprocess.Popen[bytes] | None = None,
    ) -> None:
        """Run ``scenario`` beside a worker on a clock compressed ``time_scale`` times (the
        ``worker`` given, started earlier so that its start-up overlaps what came before, or a
        new one), with the (agency, topic) pairs of ``watch`` watched; everything is stopped
        afterwards."""
        if worker is None:
            worker = start_worker(
                state_dir, self.kafka_as(self.topology.principal_of(AGENCY)), time_scale,
                self.keys,
            )
        stop = asyncio.Event()
        watchers = [asyncio.create_task(self.watch(a, t, stop)) for a, t in watch]
        try:
            await asyncio.sleep(3)  # the watchers join their groups
            await scenario()
        finally:
            stop.set()
            await asyncio.gather(*watchers, return_exceptions=True)
            for publisher in self.publishers.values():
                await publisher.__aexit__(None, None, None)
            stop_worker(worker)


def start_worker(
    state_dir: Path, kafka: KafkaSettings, time_scale: float, keys: DemoKeys
) -> subprocess.Popen[bytes]:
    """``exchange worker`` (protected, the default) in its own process, connected as the workflows
    principal, with the workflows' own key folder and the demo's root pinned. Its app id
    follows the root, so a demo state folder keeps its worker's tables across runs and no two
    roots' workers share (sealed) table state."""
    env = {
        **os.environ, **kafka.environment(), **keys.environment(AGENCY),
        "EXCHANGE_STATE_DIR": str(state_dir),
    }
    app_id = f"{AGENCY}.demo-{keys.pinned_root.removeprefix('SHA256:')[:12]}"
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "demo-worker.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "exchange.cli.main", "worker", "--replication", "1",
             "--app-id", app_id,
             "--time-scale", str(time_scale), "--data-dir", str(state_dir / "demo-worker")],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
