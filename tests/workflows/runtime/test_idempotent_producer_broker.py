"""The worker's producer is idempotent with ``acks=all`` (its audit records go through it: a send
retried after a lost acknowledgement must not be written twice), against the real broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import faust
import pytest
from prometheus_client import CollectorRegistry

from exchange.codec import EventCodec
from exchange.workflows.runtime import faust_patches
from exchange.workflows.runtime.app import create_app
from exchange.workflows.runtime.context import WorkflowContext
from exchange.workflows.runtime.metrics import WorkflowMetrics

pytestmark = pytest.mark.broker


async def test_the_worker_producer_is_idempotent_and_gets_a_producer_id(
    provisioned, codec: EventCodec, tmp_path: Path
) -> None:
    context = WorkflowContext(codec=codec, topology=provisioned.topology,
                              metrics=WorkflowMetrics(CollectorRegistry()))
    app = create_app(provisioned.kafka_as("workflows"), context, app_id="workflows.idem",
                     datadir=tmp_path, replication_cap=1)
    producer = app.producer._new_producer()  # type: ignore[attr-defined]  # what faust starts
    await producer.start()
    try:
        assert producer._txn_manager is not None  # aiokafka keeps it only with idempotence
        assert producer._txn_manager.producer_id >= 0  # the broker gave it a producer id
        assert producer._sender._acks == -1
        sent = await producer.send_and_wait("exchange.audit", b"{}", key=b"workflows/idem")
        assert sent.offset >= 0  # WRITE on the topic is enough for an idempotent producer
    finally:
        await producer.stop()


async def test_a_plain_faust_producer_is_not_idempotent(tmp_path: Path) -> None:
    """Why the patch exists: faust's own producer outside exactly_once has no idempotence."""
    app = faust.App("workflows.plain", broker="kafka://127.0.0.1:9", datadir=str(tmp_path),
                    loop=asyncio.get_running_loop())
    plain = app.producer._new_producer()  # type: ignore[attr-defined]
    faust_patches.tune_producer(app)
    tuned = app.producer._new_producer()  # type: ignore[attr-defined]
    try:
        assert plain._txn_manager is None
        assert tuned._txn_manager is not None
    finally:
        await plain.stop()  # never started: closes it
        await tuned.stop()
