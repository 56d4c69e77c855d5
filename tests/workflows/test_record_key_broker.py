"""Records keyed other than by their case key (null keys from Java producers and Kafka Connect,
or a wrong key) are dead-lettered by the worker with reason ``key-mismatch``, for every event
type a workflow keeps state for; the worker goes on with the next record."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from exchange.codec import EventCodec
from exchange.examples import example
from exchange.models.registry import EVENTS
from tests.workflows.test_flows_broker import worker_has_read
from tests.workflows.test_referrals_broker import collect
from tests.workflows.test_worker_broker import start_worker, stop_worker

pytestmark = pytest.mark.broker

#: The workflows' stateful inputs: event type -> the topic it arrives on.
STATEFUL_INPUTS = {
    "transport-sighting": "exchange.sighting",
    "dispatch-acknowledgement": "exchange.dispatch-ack",
    "missing-person-report": "exchange.missing-person",
    "rescue": "exchange.rescue",
    "referral-update": "exchange.referral-update",
    "public-tip": "exchange.tip",
    "tip-outcome": "exchange.tip-outcome",
    "infant-custody": "exchange.infant-custody",
    "intermediary-revocation": "exchange.intermediary-revocation",
    "job-placement": "exchange.job-placement",
}


@pytest.fixture(scope="module")
def worker(provisioned: Any) -> Iterator[subprocess.Popen[bytes]]:
    process = start_worker(provisioned)
    try:
        yield process
    finally:
        stop_worker(process)


def compacted(provisioned: Any, topic: str) -> bool:
    return bool(provisioned.topology.topic(topic).cleanup_policy == "compact")


def test_the_list_names_every_workflow_input(provisioned: Any) -> None:
    for name, topic in STATEFUL_INPUTS.items():
        assert EVENTS[name].fullname in provisioned.topology.topic(topic).event_types


async def test_null_and_wrong_keys_are_dead_lettered_and_the_worker_goes_on(
    provisioned: Any, codec: EventCodec, worker: subprocess.Popen[bytes]
) -> None:
    run = uuid.uuid4().hex[:8]
    sent: dict[str, tuple[str, str, bytes | None]] = {}  # ce_id -> (event, topic, key)
    producer = AIOKafkaProducer(**provisioned.broker.admin.aiokafka_kwargs())
    await producer.start()
    try:
        for name, topic in STATEFUL_INPUTS.items():
            for key in (None, f"wrong-{run}".encode()):
                event_id = f"key-{run}-{len(sent)}"
                # sealed and signed by the topic's owner over the key it is sent with, as a
                # Java producer of that agency would: verified, then refused for its key
                owner = provisioned.topology.topic(topic).owner
                protection = provisioned.protection_for(owner)
                sealed = protection.seal(
                    example(name), source=f"/agencies/{owner}/key-test", id=event_id,
                    readers=provisioned.topology.topic(topic).readers,
                )
                headers = [*sealed.headers,
                           protection.signer.header(key, sealed.value, sealed.headers)]
                send = producer.send_and_wait(topic, sealed.value, key=key, headers=headers)
                if key is None and compacted(provisioned, topic):
                    with pytest.raises(KafkaError):  # the broker refuses it itself
                        await send
                    continue
                await send
                sent[event_id] = (name, topic, key)
    finally:
        await producer.stop()

    def ce_id(record: Any) -> str:
        return dict(record.headers).get("ce_id", b"").decode()

    dead = await collect(
        provisioned, codec, "exchange.deadletter.workflows", None,
        lambda r: ce_id(r) in sent, until=lambda found: len(found) >= len(sent),
    )
    by_id = {ce_id(r): dict(r.headers) for r in dead}
    assert set(by_id) == set(sent), sorted(set(sent) - set(by_id))
    for event_id, (name, topic, key) in sent.items():
        headers = by_id[event_id]
        assert headers["exchange.error.reason"] == b"key-mismatch", (name, key)
        message = headers["exchange.error.message"].decode()
        expected = EVENTS[name].key(example(name))
        assert repr(expected) in message, (name, message)
        assert headers["exchange.original.topic"] == topic.encode()
    for topic in set(STATEFUL_INPUTS.values()):
        await worker_has_read(provisioned, topic)
    assert worker.poll() is None, "the worker stopped"
