"""Webhook sink against the real broker and a real HTTP endpoint: signed deliveries in case
order, refusals and poison records dead-lettered, an endpoint down then back, restarts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from connectors.adapters.webhook import WebhookConfig, WebhookSink, new_secret
from connectors.sdk.testing import ConnectorHarness
from exchange.examples import example
from tests.connectors.receiver import Delivery, Receiver

pytestmark = pytest.mark.broker

INBOX = "exchange.referral.to.civil-affairs"
SECRET = new_secret()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    endpoint = Receiver()
    await endpoint.start()
    yield endpoint
    await endpoint.stop()


def mine(source: str) -> Callable[[Delivery], bool]:
    return lambda d: d.json["source"] == source


def webhook(harness: ConnectorHarness, tmp_path: Path, url: str, **extra: Any) -> WebhookConfig:
    secret = tmp_path / "webhook.secret"
    secret.write_text(SECRET + "\n", encoding="ascii")
    return harness.config(
        WebhookConfig,
        kind="webhook",
        name=harness.unique_name("hook"),
        agency="civil-affairs",
        topics=[INBOX],
        url=url,
        secret_file=secret,
        **extra,
    )


async def referrals(harness: ConnectorHarness, source: str, case: str, count: int) -> list[str]:
    base = example("referral")
    ids = []
    for n in range(count):
        event = base.model_copy(update={"referralId": f"RF-{n:03d}", "caseId": case})
        ids.append((await harness.publish(event, agency="police", source=source)).event_id)
    return ids


def signature_ok(delivery: Delivery) -> bool:
    """Verified as a receiving agency does: with the standard's reference library."""
    try:
        Webhook(SECRET).verify(delivery.body, delivery.headers)
    except WebhookVerificationError:
        return False
    return True


async def _until(predicate: Callable[[], bool], within: float = 30) -> None:
    for _ in range(int(within * 10)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached")


async def test_events_are_delivered_signed_and_in_case_order(harness, tmp_path, receiver) -> None:
    source = f"/agencies/police/test/{uuid.uuid4().hex}"
    ids = await referrals(harness, source, f"CASE-{uuid.uuid4().hex[:8]}", 5)
    config = webhook(harness, tmp_path, receiver.url)
    async with harness.running(WebhookSink(config, harness.context)):
        await _until(lambda: len([d for d in receiver.accepted if mine(source)(d)]) == 5)
    got = [d for d in receiver.accepted if mine(source)(d)]
    assert [d.json["id"] for d in got] == ids
    assert [d.json["data"]["referralId"] for d in got] == [f"RF-{n:03d}" for n in range(5)]
    assert all(signature_ok(d) for d in got)
    assert got[0].headers["Content-Type"].startswith("application/cloudevents+json")


async def test_refused_and_poison_records_are_dead_lettered_and_the_sink_goes_on(
    harness, tmp_path, receiver, provisioned
) -> None:
    source = f"/agencies/police/test/{uuid.uuid4().hex}"
    receiver.answer = lambda d: 400 if d.json["data"]["referralId"] == "RF-001" else 200
    raw = AIOKafkaProducer(**provisioned.kafka_as("police").aiokafka_kwargs())
    await raw.start()
    marker = uuid.uuid4().hex.encode()
    value, headers = b"not avro " + marker, [("ce_source", source.encode()), ("ce_id", marker)]
    headers += provisioned.protection_for("police").signer.headers([(b"poison", value, headers)])
    try:  # signed by a writer, so it passes verification and reaches the decoder
        poison = await raw.send_and_wait(INBOX, value, key=b"poison", headers=headers)
    finally:
        await raw.stop()
    await referrals(harness, source, f"CASE-{uuid.uuid4().hex[:8]}", 3)
    config = webhook(harness, tmp_path, receiver.url)
    async with harness.running(WebhookSink(config, harness.context)):
        await _until(lambda: len([d for d in receiver.accepted if mine(source)(d)]) == 2)
        dead = await harness.read(
            "exchange.deadletter.civil-affairs",
            agency="operators",
            count=2,
            where=lambda r: r.headers.get("exchange.consumer.group") == config.group,
        )
    by_reason = {r.headers["exchange.error.reason"]: r for r in dead}
    assert set(by_reason) == {"not-single-object", "handler-error"}
    poisoned = by_reason["not-single-object"]
    assert poisoned.record.value == b"not avro " + marker
    assert poisoned.headers["exchange.original.offset"] == str(poison.offset)
    refused = by_reason["handler-error"]
    assert refused.headers["exchange.error.class"] == "PermanentDeliveryError"
    assert "HTTP 400" in refused.headers["exchange.error.message"]
    assert [d.json["data"]["referralId"] for d in receiver.accepted if mine(source)(d)] == [
        "RF-000",
        "RF-002",
    ]


async def test_endpoint_down_then_back_delivers_everything_once_in_order(
    harness, tmp_path, receiver
) -> None:
    source = f"/agencies/police/test/{uuid.uuid4().hex}"
    ids = await referrals(harness, source, f"CASE-{uuid.uuid4().hex[:8]}", 4)
    await receiver.stop()  # the agency's system is down
    config = webhook(
        harness,
        tmp_path,
        receiver.url,
        retry={"max_attempts": 50, "initial_backoff_s": 0.1, "max_backoff_s": 0.5},
    )
    async with harness.running(WebhookSink(config, harness.context)):
        await asyncio.sleep(2)
        assert harness.metric("exchange_connector_retries_total", connector=config.name) >= 2
        await receiver.start()  # same port: back up
        await _until(lambda: len([d for d in receiver.accepted if mine(source)(d)]) == 4)
        await asyncio.sleep(1)
    assert [d.json["id"] for d in receiver.accepted if mine(source)(d)] == ids


async def test_retries_exhausted_go_to_the_dead_letter_topic(harness, tmp_path, receiver) -> None:
    source = f"/agencies/police/test/{uuid.uuid4().hex}"
    receiver.answer = lambda d: 503 if mine(source)(d) else 200
    ids = await referrals(harness, source, f"CASE-{uuid.uuid4().hex[:8]}", 1)
    config = webhook(
        harness, tmp_path, receiver.url, retry={"max_attempts": 3, "initial_backoff_s": 0.05}
    )
    async with harness.running(WebhookSink(config, harness.context)):
        dead = await harness.read(
            "exchange.deadletter.civil-affairs",
            agency="operators",
            count=1,
            where=lambda r: r.headers.get("ce_id") == ids[0],
        )
    assert dead[0].headers["exchange.error.class"] == "RetriesExhaustedError"
    assert "gave up after 3 attempt(s)" in dead[0].headers["exchange.error.message"]
    assert len([d for d in receiver.requests if mine(source)(d)]) == 3


async def test_restart_mid_stream_neither_loses_nor_repeats(harness, tmp_path, receiver) -> None:
    source = f"/agencies/police/test/{uuid.uuid4().hex}"
    case = f"CASE-{uuid.uuid4().hex[:8]}"
    ids = await referrals(harness, source, case, 6)
    receiver.delay = 0.1
    config = webhook(harness, tmp_path, receiver.url, max_records=2)
    async with harness.running(WebhookSink(config, harness.context)):
        await _until(lambda: len([d for d in receiver.accepted if mine(source)(d)]) >= 2)
    ids += await referrals(harness, source, case, 3)  # published while the sink is down
    async with harness.running(WebhookSink(config, harness.context)):
        await _until(lambda: len([d for d in receiver.accepted if mine(source)(d)]) >= 9)
        await asyncio.sleep(1)
    assert [d.json["id"] for d in receiver.accepted if mine(source)(d)] == ids


async def test_stop_while_retrying_leaves_the_event_for_the_restart(
    harness, tmp_path, receiver
) -> None:
    source = f"/agencies/police/test/{uuid.uuid4().hex}"
    ids = await referrals(harness, source, f"CASE-{uuid.uuid4().hex[:8]}", 1)
    down = True
    receiver.answer = lambda d: 503 if down and mine(source)(d) else 200
    config = webhook(
        harness, tmp_path, receiver.url, retry={"max_attempts": 100, "initial_backoff_s": 0.2}
    )
    async with harness.running(WebhookSink(config, harness.context)):
        await harness.until(lambda: len([d for d in receiver.requests if mine(source)(d)]) >= 2)
    # stopped mid-retry: not dead-lettered, not committed
    assert (
        harness.metric(
            "exchange_connector_records_total", connector=config.name, outcome="dead_lettered"
        )
        == 0
    )
    down = False
    async with harness.running(WebhookSink(config, harness.context)):
        await harness.until(lambda: len([d for d in receiver.accepted if mine(source)(d)]) >= 1)
        await asyncio.sleep(1)
    assert [d.json["id"] for d in receiver.accepted if mine(source)(d)] == ids
