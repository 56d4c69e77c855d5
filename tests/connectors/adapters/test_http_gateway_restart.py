"""The gateway's 503 contract on a broker of its own, stopped and restarted: a 503 does not mean
"not sent"; it names the eventId and the Idempotency-Key a retry must reuse, so every copy that
reaches the bus carries one ce_id, and the late acknowledgement logs no error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from support.ports import free_port_pair
from support.protection import protection_in
from support.provisioned import fresh_broker

from connectors.adapters.http_gateway import HttpGateway
from connectors.sdk.testing import ConnectorHarness
from exchange.broker.local import LocalCluster
from exchange.client.audited import Evidence
from exchange.codec import EventCodec
from exchange.examples import example_json
from exchange.protection.keys import FileKeyStore
from exchange.settings import KafkaSettings
from exchange.tls.pki import LocalPki
from exchange.topology.apply import apply_topology
from exchange.topology.loader import load_topology
from tests.connectors.adapters.test_http_gateway import gateway_config, post, trusting

pytestmark = pytest.mark.broker

STATE = Path(__file__).resolve().parents[3] / ".state" / "test-broker-restart"
PATH = "/v1/events/transport-sighting"


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """A one-node broker of this module's own (on free ports), so it can be stopped."""
    with fresh_broker(STATE, free_port_pair()) as handle:
        assert handle.cluster is not None
        apply_topology(load_topology(), handle.admin, handle.cluster.credentials, 1)
        yield handle.cluster


@pytest.fixture
def own(cluster: LocalCluster, codec: EventCodec, tmp_path: Path) -> ConnectorHarness:
    topology = load_topology()

    def kafka_for(agency: str) -> KafkaSettings:
        principal = topology.principal_of(agency)
        return cluster.client_settings().with_principal(
            principal, cluster.credentials.password_for(principal)
        )

    keys = FileKeyStore(tmp_path / "keys")
    keys.init([a.id for a in topology.agencies])
    return ConnectorHarness(
        kafka_for, topology, codec, tmp_path / "state",
        protection_in(tmp_path / "keys", topology, codec), Evidence(keys),
        pki=LocalPki(tmp_path / "pki"),
    )


async def health(gateway: HttpGateway) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"https://127.0.0.1:{gateway.port}/healthz", ssl=trusting(gateway)
        ) as response,
    ):
        return response.status


async def test_503_names_the_id_that_the_retry_reuses_across_a_broker_restart(
    cluster: LocalCluster, own: ConnectorHarness, caplog: pytest.LogCaptureFixture
) -> None:
    config = gateway_config(
        own, own.unique_name("gw"), publish_timeout_s=3, health_timeout_s=2
    )
    late = dict(example_json("transport-sighting"), sightingId="GW-LATE-1")
    gateway = HttpGateway(config, own.context)
    async with own.running(gateway):
        await own.until(lambda: gateway.port)
        first = await post(gateway, PATH, example_json("transport-sighting"))
        assert first[0] == 202, first
        assert await health(gateway) == 200
        await asyncio.to_thread(cluster.down)
        try:
            status, body, headers = await post(gateway, PATH, late)  # no key of its own
            assert await health(gateway) == 503
        finally:
            await asyncio.to_thread(cluster.up)
        assert status == 503, body
        key = headers["Idempotency-Key"]
        assert body["idempotencyKey"] == key
        assert headers["Retry-After"] == "5"
        retried = await post(gateway, PATH, late, key=key)
        assert retried[0] == 202, retried
        assert retried[1]["eventId"] == body["eventId"]
        got = await own.read(
            "exchange.sighting", agency="police", count=3,
            source=f"/agencies/transport/t/{config.name}",
            within=20, settle=3,
        )
        assert await health(gateway) == 200
    copies = [r for r in got if r.decoded and r.decoded.event.sightingId == "GW-LATE-1"]  # type: ignore[attr-defined]
    assert copies  # at least the retry; the queued record may have arrived too
    assert {r.headers["ce_id"] for r in copies} == {body["eventId"]}  # receivers drop repeats
    assert "InvalidStateError" not in caplog.text
