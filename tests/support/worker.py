"""Running the real ``exchange worker`` against the test broker, and talking to it as agencies.

Shared by the tests that need a running worker (``tests/workflows/test_worker_*.py``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry

from exchange.client.publisher import Publisher
from exchange.codec import EventCodec
from exchange.examples.core import example_transport_sighting
from exchange.metrics import BusMetrics
from exchange.models.common import Location
from exchange.models.sightings import SightingDispatch, TransportSighting

REPO = Path(__file__).resolve().parents[2]

LOG = REPO / ".state" / "test-worker.log"
# One state folder for every worker of this test session, so that a restarted worker finds the
# table state its predecessor left (and a new session starts clean, like its new broker).
DATA_DIR = REPO / ".state" / "test-worker-data" / uuid.uuid4().hex[:8]


def start_worker(
    provisioned, *extra: str, data_dir: Path = DATA_DIR, log_file: Path = LOG
) -> subprocess.Popen[bytes]:
    """``exchange worker`` in its own process; workers running at once need their own
    ``data_dir`` (RocksDB locks it). Its output is appended to ``log_file``."""
    env = {
        **os.environ,
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent),
    }
    with log_file.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "exchange.cli.main", "worker", "--replication", "1",
             "--data-dir", str(data_dir),
             "--loglevel", os.environ.get("EXCHANGE_TEST_WORKER_LOGLEVEL", "warn"), *extra],
            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )


def stop_worker(
    worker: subprocess.Popen[bytes], timeout_s: float = 30, log_file: Path = LOG
) -> float:
    """SIGTERM, and how long the worker took to exit (fails the test past ``timeout_s``)."""
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout_s)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        tail = log_file.read_text(errors="replace")[-3000:]
        pytest.fail(f"worker ignored SIGTERM for {timeout_s} s; its log ends:\n{tail}")
    return time.monotonic() - started


def sighting(sighting_id: str, **location: object) -> TransportSighting:
    base = example_transport_sighting()
    return base.model_copy(update={
        "sightingId": sighting_id,
        "location": Location.model_validate({**base.location.model_dump(), **location}),
    })


async def publish(provisioned, codec: EventCodec, *events: TransportSighting,
                  event_id: str | None = None) -> list[str]:
    async with Publisher(
        provisioned.kafka_as("transport"), codec, provisioned.topology, agency="transport",
        source="/agencies/transport/test", metrics=BusMetrics.on(CollectorRegistry()),
        protection=provisioned.protection_for("transport"),
    ) as publisher:
        return [(await publisher.publish(e, id=event_id)).event_id for e in events]


async def dispatches(provisioned, codec: EventCodec, agency: str, sighting_ids: set[str],
                     *, want: int, timeout_s: float = 60, settle_s: float = 3,
                     ) -> list[SightingDispatch]:
    """Dispatches for ``sighting_ids`` in ``agency``'s inbox, read as that agency, until
    ``want`` distinct dispatch ids came (copies of one id, at-least-once, are all returned)."""
    consumer = AIOKafkaConsumer(
        f"exchange.sighting.to.{agency}", **provisioned.kafka_as(agency).aiokafka_kwargs(),
        group_id=f"{agency}.test.{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[SightingDispatch] = []
    try:
        deadline = time.monotonic() + timeout_s
        while (len({d.dispatchId for d in found}) < want
               and time.monotonic() < deadline):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    event = provisioned.open_as(agency, record).event
                    assert isinstance(event, SightingDispatch)
                    if event.sightingId in sighting_ids:
                        found.append(event)
        # Anything more (a duplicate) arrives within a few more seconds.
        settle_until = time.monotonic() + settle_s
        while time.monotonic() < settle_until:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    event = provisioned.open_as(agency, record).event
                    if isinstance(event, SightingDispatch) and event.sightingId in sighting_ids:
                        found.append(event)
    finally:
        await consumer.stop()
    return found


def distinct(found: list[SightingDispatch]) -> list[SightingDispatch]:
    """One of each dispatch id, in arrival order. Copies of an id are at-least-once re-sends
    (a sighting re-read after a restart re-sends its unacknowledged dispatch, same id, for the
    receiver to drop); they must say the same thing."""
    first: dict[str, SightingDispatch] = {}
    for dispatch in found:
        kept = first.setdefault(dispatch.dispatchId, dispatch)
        assert (kept.kind, kept.target, kept.sightingId) == (
            dispatch.kind, dispatch.target, dispatch.sightingId
        ), f"two dispatches share the id {dispatch.dispatchId} but differ"
    return list(first.values())
