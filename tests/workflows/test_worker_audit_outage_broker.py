"""The protected worker under a real time-stamping authority outage, on the real broker.

A real RFC 3161 authority (``openssl ts``) and the notary anchor the worker's audit checkpoints.
The TSA is stopped mid-run: once the worker's checkpoints have waited longer than the
fail-closed policy allows, it *holds*: a sighting published then is not handled (no dispatch,
no audit record of it) while the TSA is down. The TSA comes back on the same port: the worker
takes the held sighting, and every sighting has exactly one dispatch and one ``delivered``
audit record (nothing lost, nothing duplicated).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry
from support.notary import notary_with_authority
from support.worker import sighting, start_worker, stop_worker

from exchange.client.publisher import Publisher
from exchange.metrics import BusMetrics
from exchange.models.sightings import SightingDispatch
from exchange.protection.audit_kafka import read_audit
from exchange.protection.exceptions import VerificationError
from tests.workflows.test_worker_protected_broker import Agencies, free_port, metric

pytestmark = pytest.mark.broker

LIMIT_S = 4.0
"""The fail-closed policy's limit on unanchored checkpoints in this test (default: 4 h)."""
DISPATCHES = "exchange.sighting.to.police"


def street(sighting_id: str) -> Any:
    """A sighting in a Yanta street: one dispatch, to the Yanta police (``police``'s inbox)."""
    return sighting(sighting_id, facility=None, regionCode="610113", lat=34.2235, lon=108.9474)


async def dispatched(provisioned: Any, agencies: Agencies, wanted: set[str], *, until: int,
                     within: float, settle: float = 0) -> dict[str, list[str]]:
    """Sighting id -> the dispatch id of each copy in the police inbox (opened as police),
    read until ``until`` of ``wanted`` have one or ``within`` seconds passed."""
    consumer = AIOKafkaConsumer(
        DISPATCHES, **provisioned.kafka_as("police").aiokafka_kwargs(),
        group_id=f"police.test.{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest",
    )
    police = agencies.as_("police")
    found: dict[str, list[str]] = {}
    await consumer.start()
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for record in records:
                    if record.key is None or record.key.decode() not in wanted:
                        continue
                    try:
                        event = police.decode(record.key, record.value, record.headers,
                                              (record.topic, record.partition, record.offset)
                                              ).decoded.event
                    except VerificationError as error:  # "replayed": a copy of one already read
                        found.setdefault(record.key.decode(), []).append(f"refused: {error}")
                        continue
                    assert isinstance(event, SightingDispatch)
                    found.setdefault(event.sightingId, []).append(event.dispatchId)
            if len(found) >= until:
                deadline = min(deadline, time.monotonic() + settle)
                if settle <= 0:
                    break
    finally:
        await consumer.stop()
    return found


async def until(condition: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.3)


async def test_the_worker_holds_through_a_tsa_outage_and_resumes_without_loss(
    provisioned: Any, codec: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agencies = Agencies(provisioned, codec)
    tag = uuid.uuid4().hex[:6]
    first, during, held = street(f"WA-{tag}"), street(f"WB-{tag}"), street(f"WC-{tag}")
    ids = {s.sightingId for s in (first, during, held)}
    monkeypatch.setenv("EXCHANGE_AUDIT__CHECKPOINT_EVERY_RECORDS", "1")
    monkeypatch.setenv("EXCHANGE_AUDIT__CHECKPOINT_EVERY_SECONDS", "1")
    monkeypatch.setenv("EXCHANGE_AUDIT__FAIL_CLOSED__MAX_UNANCHORED_SECONDS", str(LIMIT_S))
    port = free_port()
    log_file = tmp_path / "worker.log"

    def gauge(name: str) -> float:
        try:
            return metric(port, name, agency="workflows")
        except OSError:
            return -1.0

    async def publish(*events: Any) -> None:
        async with Publisher(
            provisioned.kafka_as("transport"), codec, provisioned.topology, agency="transport",
            source="/agencies/transport/staff-app", metrics=BusMetrics.on(CollectorRegistry()),
            protection=agencies.as_("transport"),
        ) as publisher:
            for event in events:
                await publisher.publish(event)

    async with notary_with_authority(provisioned.kafka_as, agencies.keys,
                                     tmp_path / "tsa") as tsa:
        worker = start_worker(
            provisioned, "--app-id", f"workflows.outage-{tag}",
            "--metrics-port", str(port), data_dir=tmp_path / "worker-state", log_file=log_file,
        )
        try:
            await publish(first)
            assert first.sightingId in await dispatched(
                provisioned, agencies, {first.sightingId}, until=1, within=120)
            await asyncio.sleep(2.5)  # the worker signs its head within ~1 s
            core = tsa.core
            assert core is not None
            await until(lambda: not core.pending, 30, "the worker's checkpoints anchored")

            tsa.outage()
            await publish(during)  # handled: the guard is still open
            assert during.sightingId in await dispatched(
                provisioned, agencies, {during.sightingId}, until=1, within=60)
            await asyncio.sleep(LIMIT_S + 2.5)  # its checkpoint waits past the limit
            await publish(held)
            await until(lambda: gauge("exchange_audit_fail_closed") == 1, 30,
                        "the worker fails closed")
            assert gauge("exchange_audit_refused_total") >= 1
            assert not await dispatched(provisioned, agencies, {held.sightingId}, until=1,
                                        within=8), "the worker handled an event it could not anchor"
            assert tsa.tsa_failures() > 0
            assert worker.poll() is None, "the worker stopped instead of holding"

            tsa.back()
            copies = await dispatched(provisioned, agencies, ids, until=3, within=90, settle=3)
            assert gauge("exchange_audit_fail_closed") == 0
        finally:
            stop_worker(worker, log_file=log_file)

    assert sorted(copies) == sorted(ids), copies
    assert all(len(dispatch_ids) == 1 for dispatch_ids in copies.values()), copies
    entries = await read_audit(provisioned.kafka_as("operators"),
                               provisioned.topology.topic("exchange.audit").partitions)
    delivered = [e.record["case"] for e in entries
                 if e.record.get("action") == "delivered" and e.record.get("case") in ids]
    assert sorted(delivered) == sorted(ids)
