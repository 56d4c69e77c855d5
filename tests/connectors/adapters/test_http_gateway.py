"""The HTTP ingest gateway against the real broker: accepted, refused, idempotent, restarted."""

from __future__ import annotations

import ssl
import uuid
from typing import Any

import aiohttp
import pytest

from connectors.adapters.http_gateway import HttpGateway, HttpGatewayConfig, token_digest
from connectors.sdk.testing import ConnectorHarness
from exchange.examples import example_json
from exchange.settings import KafkaSettings
from exchange.tls.context import client_context
from exchange.tls.exceptions import TlsError

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
            {"agency": "transport", "token_sha256": token_digest(TOKEN),
            "source": f"/agencies/transport/t/{name}"}
        ],
        **extra,
    )


def trusting(gateway: HttpGateway) -> ssl.SSLContext:
    """A client context that trusts the local CA which issued the gateway's certificate."""
    assert gateway.context.pki is not None
    return client_context(cafile=gateway.context.pki.ca_file)


async def post(
    gateway: HttpGateway, path: str, body: Any, *, token: str | None = TOKEN,
    key: str | None = None,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if key:
        headers["Idempotency-Key"] = key
    data = body if isinstance(body, bytes) else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"https://127.0.0.1:{gateway.port}{path}",
            ssl=trusting(gateway),
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
            gateway, "/v1/events/transport-sighting", example_json("transport-sighting")
        )
        assert status == 202, answer
        got = await harness.read(
            "exchange.sighting", agency="police", count=1,
            source=f"/agencies/transport/t/{config.name}"
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
        status, body, headers = await post(gateway, path, invalid, token=None)
        assert status == 401
        assert headers["WWW-Authenticate"].startswith("Bearer")
        assert (await post(gateway, path, invalid, token="wrong"))[0] == 401
        status, body, _ = await post(gateway, path, invalid)
        assert status == 422
        assert body["error"] == "invalid-event"
        assert [e["field"] for e in body["errors"]] == ["location.lat"]
        assert (await post(gateway, path, b"{not json"))[0] == 400
        assert (await post(gateway, path, [1, 2]))[0] == 400
        assert (await post(gateway, "/v1/events/nonsense", {}))[0] == 404
        status, body, _ = await post(gateway, "/v1/events/rescue", example_json("rescue"))
        assert status == 403, body
        got = await harness.read(
            "exchange.sighting", agency="police", count=1,
            source=f"/agencies/transport/t/{config.name}", within=3
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
        first = await post(gateway, path, event, key=key)
        again = await post(gateway, path, event, key=key)
    assert first[0] == again[0] == 202
    assert again[1]["eventId"] == first[1]["eventId"]
    assert again[1]["duplicate"] is True
    restarted = HttpGateway(config, harness.context)  # same progress file: a restart
    async with harness.running(restarted):
        await harness.until(lambda: restarted.port)
        after = await post(restarted, path, event, key=key)
        other = dict(event, sightingId="SGT-OTHER-1")
        reused = await post(restarted, path, other, key=key)
        got = await harness.read(
            "exchange.sighting", agency="police", count=1,
            source=f"/agencies/transport/t/{config.name}", settle=3
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
        harness.protection_for,
        pki=harness.pki,
    )
    key = uuid.uuid4().hex
    event = example_json("transport-sighting")
    path = "/v1/events/transport-sighting"
    gateway = HttpGateway(config, down.context)
    async with down.running(gateway):
        await harness.until(lambda: gateway.port)
        status, body, headers = await post(gateway, path, event, key=key)
    assert status == 503, body
    assert headers["Retry-After"] == "5"
    back = HttpGateway(config, harness.context)
    async with harness.running(back):
        await harness.until(lambda: back.port)
        status, body, _ = await post(back, path, event, key=key)
        got = await harness.read(
            "exchange.sighting", agency="police", count=1,
            source=f"/agencies/transport/t/{config.name}", settle=2
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
            session.get(
                f"https://127.0.0.1:{gateway.port}/openapi.json", ssl=trusting(gateway)
            ) as response,
        ):
            doc = await response.json()
    assert doc["openapi"] == "3.1.0"
    operation = doc["paths"]["/v1/events/transport-sighting"]["post"]
    assert set(operation["responses"]) >= {"202", "401", "422", "503"}
    assert "TransportSighting" in doc["components"]["schemas"]


async def test_https_by_default_with_a_certificate_from_the_local_ca(harness) -> None:
    gateway = HttpGateway(gateway_config(harness, harness.unique_name("gw")), harness.context)
    async with harness.running(gateway):
        await harness.until(lambda: gateway.port)
        assert gateway.certificate is not None
        assert gateway.certificate.parent == harness.pki.directory
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await session.get(f"https://127.0.0.1:{gateway.port}/healthz")  # system CAs
            with pytest.raises(aiohttp.ClientError):
                await session.get(f"http://127.0.0.1:{gateway.port}/healthz")  # plain HTTP
            async with session.get(
                f"https://127.0.0.1:{gateway.port}/healthz", ssl=trusting(gateway)
            ) as response:
                assert response.status == 200


async def test_plain_http_only_by_an_explicit_flag_that_warns(
    harness, caplog: pytest.LogCaptureFixture
) -> None:
    name = harness.unique_name("gw")
    gateway = HttpGateway(gateway_config(harness, name, insecure_plain_http=True),
                          harness.context)
    with caplog.at_level("WARNING", logger="connectors.http_gateway"):
        async with harness.running(gateway), aiohttp.ClientSession() as session:
            await harness.until(lambda: gateway.port)
            async with session.get(f"http://127.0.0.1:{gateway.port}/healthz") as response:
                assert response.status == 200
    assert any("INSECURE" in r.getMessage() and name in r.getMessage() for r in caplog.records)
    assert gateway.certificate is None


async def test_no_certificate_and_no_local_ca_is_a_clear_error(harness) -> None:
    config = gateway_config(harness, harness.unique_name("gw"))
    alone = ConnectorHarness(harness.kafka_for, harness.topology, harness.codec,
                             harness.state_dir, harness.protection_for)
    gateway = HttpGateway(config, alone.context)
    with pytest.raises(TlsError, match=r"\[tls\] table's certfile"):
        await gateway.setup()
    await gateway.close()
