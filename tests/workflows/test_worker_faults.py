"""The worker under faults, against the real broker: killed mid-stream, two workers sharing the
partitions, the broker restarted under a running worker. In each case every sighting reaches its
police unit, and no sighting produces a dispatch with a new id (a copy with the same id, which
the receiver drops, is allowed: delivery is at-least-once)."""

from __future__ import annotations

import signal
import uuid
from collections import Counter

import pytest
from support.worker import DATA_DIR, dispatches, publish, sighting, start_worker, stop_worker

from exchange.codec import EventCodec
from exchange.models.sightings import TransportSighting

pytestmark = pytest.mark.broker


def street_sightings(run: str, count: int) -> list[TransportSighting]:
    """Sightings in a Yanta street (one dispatch each, to ``police``), keyed over all partitions."""
    return [
        sighting(f"F-{run}-{i}", facility=None, regionCode="610113", lat=34.2235, lon=108.9474)
        for i in range(count)
    ]


def assert_each_dispatched_once(ids: list[str], got: list) -> None:
    by_id = Counter(d.dispatchId for d in got)
    expected = {f"{event_id}:respond" for event_id in ids}
    assert set(by_id) == expected, (
        f"missing {len(expected - set(by_id))}, unexpected {sorted(set(by_id) - expected)[:5]}"
    )


async def test_a_killed_worker_neither_loses_nor_repeats_a_dispatch(
    provisioned, codec: EventCodec
) -> None:
    run = uuid.uuid4().hex[:6]
    batch = street_sightings(run, 400)
    worker = start_worker(provisioned)
    try:
        ids = await publish(provisioned, codec, *batch)
        # Killed (no chance to commit or flush) once part of the batch has been dispatched.
        await dispatches(provisioned, codec, "police", {s.sightingId for s in batch}, want=50,
                         settle_s=0)
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        worker = start_worker(provisioned)
        got = await dispatches(provisioned, codec, "police", {s.sightingId for s in batch},
                               want=len(batch), timeout_s=240)
    finally:
        if worker.poll() is None:
            stop_worker(worker)
    assert_each_dispatched_once(ids, got)


async def test_two_workers_share_the_partitions_and_one_takes_over(
    provisioned, codec: EventCodec
) -> None:
    run = uuid.uuid4().hex[:6]
    first = start_worker(provisioned, data_dir=DATA_DIR.with_name(f"{DATA_DIR.name}-a"))
    second = start_worker(provisioned, data_dir=DATA_DIR.with_name(f"{DATA_DIR.name}-b"))
    try:
        before = street_sightings(f"{run}-1", 60)
        ids = await publish(provisioned, codec, *before)
        got = await dispatches(provisioned, codec, "police", {s.sightingId for s in before},
                               want=len(before), timeout_s=120)
        assert_each_dispatched_once(ids, got)

        stop_worker(second)  # its partitions move to the first worker
        after = street_sightings(f"{run}-2", 60)
        ids = await publish(provisioned, codec, *after)
        got = await dispatches(provisioned, codec, "police", {s.sightingId for s in after},
                               want=len(after), timeout_s=120)
        assert_each_dispatched_once(ids, got)
    finally:
        for worker in (first, second):
            if worker.poll() is None:
                stop_worker(worker)


async def test_the_worker_rides_out_a_broker_restart(provisioned, codec: EventCodec) -> None:
    cluster = provisioned.broker.cluster
    if cluster is None:
        pytest.fail("this test restarts the broker: run it on the broker the tests start")
    run = uuid.uuid4().hex[:6]
    worker = start_worker(provisioned)
    try:
        before = street_sightings(f"{run}-1", 20)
        await publish(provisioned, codec, *before)
        await dispatches(provisioned, codec, "police", {s.sightingId for s in before},
                         want=len(before), settle_s=0)
        cluster.down()
        cluster.up()
        after = street_sightings(f"{run}-2", 20)
        ids = await publish(provisioned, codec, *after)
        got = await dispatches(provisioned, codec, "police", {s.sightingId for s in after},
                               want=len(after), timeout_s=180)
        assert worker.poll() is None, "the worker exited while the broker restarted"
    finally:
        if worker.poll() is None:
            stop_worker(worker)
    assert_each_dispatched_once(ids, got)
