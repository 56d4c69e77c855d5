"""The HTTP ingest gateway against the real broker: accepted, refused, idempotent, restarted."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest

from connectors.adapters.http_gateway import HttpGateway, HttpGatewayConfig, token_digest
from connectors.sdk.testing import ConnectorHarness
from exchange.examples import example_json
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.broker

TOKEN = "staff-app-secret"


def gateway_config(harness: ConnectorHarness, name: str, **extra: Any) -> HttpGatewayConfig:
    return harness.config(
        HttpGatewayConfig,
        kind="http-gateway",
        name=name,
        agency="transport",
        port=0,
        callers=[
            {"agency": "transport", "token_sha256": token_digest(TOKEN), "source": f"/t/{name}"}
        ],
        **extra,
    )


async def post(
    port: int | None, path: str, body: Any, *, token: str | None = TOKEN, key: str | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if key:
        headers["Idempotency-Key"] = key
    data = body if isinstance(body, bytes) else None
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{port}{path}",
            json=None if data is not None else body,
            data=data,
            headers=headers,
        ) as response,
    ):
        return response.status, await response.json(), dict(response.headers)


async def test_accepted_event_reaches_the_bus_with_its_id(harness) -> None:
    config = gateway_config(harness, harness.unique_name("gw"))
    gateway = HttpGateway(config, harness.context)
    async with harness.running(gateway):
        await harness.until(lambda: gateway.port)
        status, answer, _ = await post(
            gateway.port, "/v1/events/transport-sighting", example_json("transport-sighting")
        )
        assert status == 202, answer
        got = await harness.read(
            "exchange.sighting", agency="police", count=1, source=f"/t/{config.name}"
        )
    assert [r.headers["ce_id"] for r in got] == [answer["eventId"]]
    assert got[0].decoded is not None
    assert (
        got[0].decoded.event.model_dump(mode="json", exclude_none=True)["sightingId"]
        == (example_json("transport-sighting")["sightingId"])
    )
    assert (answer["topic"], answer["offset"]) == ("exchange.sighting", got[0].record.offset)


async def test_bad_requests_get_4xx_with_field_errors_and_nothing_is_sent(harness) -> None:
    config = gateway_config(harness, harness.unique_name("gw"))
    gateway = HttpGateway(config, harness.context)
    invalid = example_json("transport-sighting")
    invalid["location"]["lat"] = 123.0
    async with harness.running(gateway):
        await harness.until(lambda: gateway.port)
        path = "/v1/events/transport-sighting"
        status, body, headers = await post(gateway.port, path, invalid, token=None)
        assert status == 401
        assert headers["WWW-Authenticate"].startswith("Bearer")
        assert (await post(gateway.port, path, invalid, token="wrong"))[0] == 401
        status, body, _ = await post(gateway.port, path, invalid)
        assert status == 422
        assert body["error"] == "invalid-event"
        assert [e["field"] for e in body["errors"]] == ["location.lat"]
        assert (await post(gateway.port, path, b"{not json"))[0] == 400
        assert (await post(gateway.port, path, [1, 2]))[0] == 400
        assert (await post(gateway.port, "/v1/events/nonsense", {}))[0] == 404
        status, body, _ = await post(gateway.port, "/v1/events/rescue", example_json("rescue"))
        assert status == 403, body
        got = await harness.read(
            "exchange.sighting", agency="police", count=1, source=f"/t/{config.name}", within=3
        )
    assert got == []
    refused = harness.metric(
        "exchange_connector_records_total", connector=config.name, outcome="refused"
    )
    assert refused == 7


async def test_idempotency_key_makes_retries_safe_across_a_restart(harness) -> None:
    config = gateway_config(harness, harness.unique_name("gw"))
    key = uuid.uuid4().hex
    event = example_json("transport-sighting")
    path = "/v1/events/transport-sighting"
    gateway = HttpGateway(config, harness.context)
    async with harness.running(gateway):
        await harness.until(lambda: gateway.port)
        first = await post(gateway.port, path, event, key=key)
        again = await post(gateway.port, path, event, key=key)
    assert first[0] == again[0] == 202
    assert again[1]["eventId"] == first[1]["eventId"]
    assert again[1]["duplicate"] is True
    restarted = HttpGateway(config, harness.context)  # same progress file: a restart
    async with harness.running(restarted):
        await harness.until(lambda: restarted.port)
        after = await post(restarted.port, path, event, key=key)
        other = dict(event, sightingId="SGT-OTHER-1")
        reused = await post(restarted.port, path, other, key=key)
        got = await harness.read(
            "exchange.sighting", agency="police", count=1, source=f"/t/{config.name}", settle=3
        )
    assert after[0] == 202
    assert after[1]["eventId"] == first[1]["eventId"]
    assert reused[0] == 422
    assert reused[1]["error"] == "idempotency-key-reused"
    assert [r.headers["ce_id"] for r in got] == [first[1]["eventId"]]


async def test_bus_down_answers_503_then_the_retry_is_published_once(harness) -> None:
    config = gateway_config(harness, harness.unique_name("gw"), publish_timeout_s=2)
    down = ConnectorHarness(
        lambda agency: KafkaSettings(bootstrap_servers="127.0.0.1:9").with_principal("x", "y"),
        harness.topology,
        harness.codec,
        harness.state_dir,
    )
    key = uuid.uuid4().hex
    event = example_json("transport-sighting")
    path = "/v1/events/transport-sighting"
    gateway = HttpGateway(config, down.context)
    async with down.running(gateway):
        await harness.until(lambda: gateway.port)
        status, body, headers = await post(gateway.port, path, event, key=key)
    assert status == 503, body
    assert headers["Retry-After"] == "5"
    back = HttpGateway(config, harness.context)
    async with harness.running(back):
        await harness.until(lambda: back.port)
        status, body, _ = await post(back.port, path, event, key=key)
        got = await harness.read(
            "exchange.sighting", agency="police", count=1, source=f"/t/{config.name}", settle=2
        )
    assert status == 202
    assert [r.headers["ce_id"] for r in got] == [body["eventId"]]


async def test_openapi_document_describes_each_event(harness) -> None:
    config = gateway_config(harness, harness.unique_name("gw"), event_types=["transport-sighting"])
    gateway = HttpGateway(config, harness.context)
    async with harness.running(gateway):
        await harness.until(lambda: gateway.port)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{gateway.port}/openapi.json") as response,
        ):
            doc = await response.json()
    assert doc["openapi"] == "3.1.0"
    operation = doc["paths"]["/v1/events/transport-sighting"]["post"]
    assert set(operation["responses"]) >= {"202", "401", "422", "503"}
    assert "TransportSighting" in doc["components"]["schemas"]
