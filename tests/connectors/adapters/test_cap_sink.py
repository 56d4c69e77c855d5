"""CAP sink against the real broker: alerts to a screens' folder and public-alert endpoints,
invalid CAP dead-lettered, an endpoint down then back, restarts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from connectors.adapters.cap_sink import CapSink, CapSinkConfig
from connectors.sdk.testing import ConnectorHarness
from exchange.cap import parse_cap
from exchange.examples import example
from tests.connectors.receiver import Delivery, Receiver

pytestmark = pytest.mark.broker


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    endpoint = Receiver()
    await endpoint.start()
    yield endpoint
    await endpoint.stop()


async def alerts(harness: ConnectorHarness, source: str, count: int, **update: Any) -> list[str]:
    base = example("emergency-alert")
    identifiers = []
    for n in range(count):
        identifier = f"XA-TEST-{uuid.uuid4().hex[:8]}-{n}"
        event = base.model_copy(update={"identifier": identifier, "sequence": n, **update})
        await harness.publish(
            event, agency="workflows", source=source, topic="exchange.public-alert"
        )
        identifiers.append(identifier)
    return identifiers


def mine(source: str) -> Callable[[Delivery], bool]:
    return lambda d: d.headers["Idempotency-Key"].startswith(source + "#")


def cap_config(harness: ConnectorHarness, **fields: Any) -> CapSinkConfig:
    return harness.config(CapSinkConfig, kind="cap", name=harness.unique_name("cap"), **fields)


async def _until(predicate: Callable[[], bool], within: float = 30) -> None:
    for _ in range(int(within * 10)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached")


async def test_alerts_reach_the_folder_and_the_endpoint(harness, tmp_path, receiver) -> None:
    source = f"/agencies/workflows/test/{uuid.uuid4().hex}"
    identifiers = await alerts(harness, source, 3)
    folder = tmp_path / "screens"
    config = cap_config(harness, folder=folder, endpoints=[receiver.url])
    async with harness.running(CapSink(config, harness.context)):
        await _until(lambda: len([d for d in receiver.accepted if mine(source)(d)]) == 3)
        await _until(lambda: all((folder / f"{i}.xml").exists() for i in identifiers))
    posted = [d for d in receiver.accepted if mine(source)(d)]
    assert all(d.headers["Content-Type"] == "application/cap+xml" for d in posted)
    assert parse_cap(posted[0].body.decode()).msg_type == "Alert"
    assert parse_cap((folder / f"{identifiers[0]}.xml").read_text()).msg_type == "Alert"
    assert not list(folder.glob(".*.part"))


async def test_invalid_cap_is_dead_lettered_and_reaches_no_screen(
    harness, tmp_path, receiver
) -> None:
    source = f"/agencies/workflows/test/{uuid.uuid4().hex}"
    bad = await alerts(harness, source, 1, cap="<alert>not CAP</alert>")
    good = await alerts(harness, source, 1)
    folder = tmp_path / "screens"
    config = cap_config(harness, folder=folder, endpoints=[receiver.url])
    async with harness.running(CapSink(config, harness.context)):
        dead = await harness.read(
            "exchange.deadletter.public-alerts",
            agency="operators",
            count=1,
            where=lambda r: r.headers.get("ce_source") == source,
        )
        await _until((folder / f"{good[0]}.xml").exists)
    assert dead[0].headers["exchange.error.class"] == "PermanentDeliveryError"
    assert "invalid CAP 1.2" in dead[0].headers["exchange.error.message"]
    assert not (folder / f"{bad[0]}.xml").exists()
    assert len([d for d in receiver.accepted if mine(source)(d)]) == 1


async def test_endpoint_down_then_back_gets_each_alert_once(harness, tmp_path, receiver) -> None:
    source = f"/agencies/workflows/test/{uuid.uuid4().hex}"
    identifiers = await alerts(harness, source, 2)
    down = True  # the endpoint answers 503 to this test's alerts until it is "back"
    receiver.answer = lambda d: 503 if down and mine(source)(d) else 200
    folder = tmp_path / "screens"
    config = cap_config(
        harness,
        folder=folder,
        endpoints=[receiver.url],
        retry={"max_attempts": 50, "initial_backoff_s": 0.1, "max_backoff_s": 0.5},
    )
    async with harness.running(CapSink(config, harness.context)):
        await _until((folder / f"{identifiers[0]}.xml").exists)  # the folder takes it at once
        await _until(lambda: len([d for d in receiver.requests if mine(source)(d)]) >= 3)
        down = False
        await _until(lambda: len([d for d in receiver.accepted if mine(source)(d)]) == 2)
        await asyncio.sleep(1)
    keys = [d.headers["Idempotency-Key"] for d in receiver.accepted if mine(source)(d)]
    assert len(keys) == len(set(keys)) == 2
    assert harness.metric("exchange_connector_retries_total", connector=config.name) >= 2


async def test_restart_mid_stream_neither_loses_nor_repeats(harness, tmp_path, receiver) -> None:
    source = f"/agencies/workflows/test/{uuid.uuid4().hex}"
    await alerts(harness, source, 4)
    receiver.delay = 0.1
    config = cap_config(harness, endpoints=[receiver.url], max_records=2)
    async with harness.running(CapSink(config, harness.context)):
        await _until(lambda: len([d for d in receiver.accepted if mine(source)(d)]) >= 1)
    await alerts(harness, source, 2)
    async with harness.running(CapSink(config, harness.context)):
        await _until(lambda: len([d for d in receiver.accepted if mine(source)(d)]) >= 6)
        await asyncio.sleep(1)
    keys = [d.headers["Idempotency-Key"] for d in receiver.accepted if mine(source)(d)]
    assert len(keys) == len(set(keys)) == 6


def test_a_cap_sink_needs_a_target(harness) -> None:
    with pytest.raises(ValueError, match="at least one target"):
        cap_config(harness)


def test_config_path_is_a_folder(tmp_path: Path, harness) -> None:
    config = cap_config(harness, folder=tmp_path / "x")
    assert config.topics == ("exchange.public-alert",)
    assert config.group.startswith("public-alerts.connect.")
