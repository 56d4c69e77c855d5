"""The HTTP gateway's own limits against the real broker: auth scheme in any case, media type,
Idempotency-Key length, body size, JSON nesting, a body that never arrives, readiness."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aiohttp
import pytest

from connectors.adapters.http_gateway import HttpGateway
from connectors.sdk.testing import ConnectorHarness
from exchange.errors import SettingsError
from exchange.examples import example_json
from exchange.settings import KafkaSettings
from tests.connectors.adapters.test_http_gateway import TOKEN, gateway_config, trusting

pytestmark = pytest.mark.broker
PATH = "/v1/events/transport-sighting"


async def send(
    gateway: HttpGateway, body: bytes, headers: dict[str, str], path: str = PATH
) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"https://127.0.0.1:{gateway.port}{path}", data=body, headers=headers,
            ssl=trusting(gateway),
        ) as response,
    ):
        return response.status, await response.json()


def sighting(number: int) -> bytes:
    event = dict(example_json("transport-sighting"), sightingId=f"GW-EDGE-{number}")
    return json.dumps(event).encode()


JSON = {"Content-Type": "application/json"}


async def test_requests_are_checked_before_they_reach_the_bus(harness) -> None:
    config = gateway_config(harness, harness.unique_name("gw"), max_body_bytes=20_000)
    gateway = HttpGateway(config, harness.context)
    async with harness.running(gateway):
        await harness.until(lambda: gateway.port)
        for number, scheme in enumerate(["bearer", "BEARER", "Bearer"]):  # RFC 7235
            status, body = await send(
                gateway, sighting(number), {**JSON, "Authorization": f"{scheme} {TOKEN}"}
            )
            assert status == 202, (scheme, body)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        status, body = await send(gateway, sighting(5), {**auth, "Content-Type": "text/plain"})
        assert (status, body["error"]) == (415, "unsupported-media-type")
        too_long = {**auth, **JSON, "Idempotency-Key": "k" * 201}
        status, body = await send(gateway, sighting(6), too_long)
        assert (status, body["error"]) == (400, "bad-idempotency-key")
        status, _ = await send(gateway, sighting(7), {**auth, **JSON, "Idempotency-Key": "k" * 200})
        assert status == 202
        deep = b"[" * 50_000 + b"]" * 50_000  # under the size limit, RecursionError in json
        status, body = await send(gateway, deep[:9_000] + deep[-9_000:], {**auth, **JSON})
        assert status == 422, body
        assert [e["rule"] for e in body["errors"]] == ["json_depth"]
        status, body = await send(gateway, b'{"x": "' + b"y" * 30_000 + b'"}', {**auth, **JSON})
        assert status == 413
        status, body = await send(gateway, '{"a": "西安"}'.encode("gbk"), {**auth, **JSON})
        assert (status, body["error"]) == (400, "not-json")
        got = await harness.read(
            "exchange.sighting", agency="police", count=4,
            source=f"/agencies/transport/t/{config.name}", settle=2
        )
    assert len(got) == 4


async def test_a_body_that_does_not_arrive_is_cut_off(harness) -> None:
    config = gateway_config(harness, harness.unique_name("gw"), body_timeout_s=1)
    gateway = HttpGateway(config, harness.context)
    async with harness.running(gateway):
        await harness.until(lambda: gateway.port)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", gateway.port, ssl=trusting(gateway)
        )
        writer.write(
            f"POST {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{".encode()
        )
        await writer.drain()
        try:
            answer = await asyncio.wait_for(reader.read(), 10)  # ends when the server closes
        finally:
            writer.close()
            await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]


async def test_a_connection_whose_headers_do_not_arrive_is_closed(harness) -> None:
    config = gateway_config(harness, harness.unique_name("gw"), keepalive_timeout_s=1)
    gateway = HttpGateway(config, harness.context)
    async with harness.running(gateway):
        await harness.until(lambda: gateway.port)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", gateway.port, ssl=trusting(gateway)
        )
        writer.write(f"POST {PATH} HTTP/1.1\r\nHost: x\r\n".encode())  # and nothing more
        await writer.drain()
        try:
            answer = await asyncio.wait_for(reader.read(), 10)  # ends when the server closes
        finally:
            writer.close()
            await writer.wait_closed()
    assert answer == b""


async def test_health_is_not_ready_without_credentials(harness) -> None:
    def no_credentials(agency: str) -> KafkaSettings:
        raise SettingsError("credentials", f"no password for {agency}")

    lost = ConnectorHarness(
        no_credentials, harness.topology, harness.codec, harness.state_dir,
        harness.protection_for, pki=harness.pki,
    )
    config = gateway_config(harness, harness.unique_name("gw"))
    gateway = HttpGateway(config, lost.context)
    async with lost.running(gateway):
        await harness.until(lambda: gateway.port)
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"https://127.0.0.1:{gateway.port}/healthz", ssl=trusting(gateway)
            ) as response,
        ):
            status, body = response.status, await response.json()
        key = uuid.uuid4().hex
        auth = {"Authorization": f"Bearer {TOKEN}", **JSON, "Idempotency-Key": key}
        posted = await send(gateway, sighting(9), auth)
    assert status == 503
    assert body["status"] == "not-ready"
    assert "transport: no credentials" in body["problems"][0]
    assert posted[0] == 503
    assert posted[1]["idempotencyKey"] == key


async def _raw(gateway: HttpGateway, head: bytes) -> bytes:
    """The status line of a request written byte for byte (headers no client library sends)."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", gateway.port, ssl=trusting(gateway)
    )
    body = sighting(90)
    writer.write(head + b"Content-Type: application/json\r\nConnection: close\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()
    try:
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        await writer.wait_closed()
    return answer.split(b"\r\n", 1)[0]


async def test_header_bytes_that_are_not_utf8_are_refused_not_crashed(harness) -> None:
    config = gateway_config(harness, harness.unique_name("gw"))
    gateway = HttpGateway(config, harness.context)
    start = f"POST {PATH} HTTP/1.1\r\nHost: x\r\n".encode()
    async with harness.running(gateway):
        await harness.until(lambda: gateway.port)
        assert await _raw(gateway, start + b"Authorization: Bearer \xff\xfe\r\n") == (
            b"HTTP/1.1 401 Unauthorized"
        )
        key = start + f"Authorization: Bearer {TOKEN}\r\n".encode() + b"Idempotency-Key: k\xff\r\n"
        assert await _raw(gateway, key) == b"HTTP/1.1 400 Bad Request"
        good = start + f"Authorization: Bearer {TOKEN}\r\n".encode()
        assert await _raw(gateway, good) == b"HTTP/1.1 202 Accepted"  # still serving
