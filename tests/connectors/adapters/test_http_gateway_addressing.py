"""The gateway answers an addressee without an inbox, or another agency's inbox, with 422 and
the field error (``toAgency.agencyId``); nothing is sent."""

from __future__ import annotations

import pytest

from connectors.adapters.http_gateway import HttpGateway
from exchange.examples import example_json
from tests.connectors.adapters.test_http_gateway import gateway_config, post

pytestmark = pytest.mark.broker


async def test_an_unknown_addressee_is_422_naming_the_field(harness) -> None:
    config = gateway_config(harness, harness.unique_name("gw"))
    gateway = HttpGateway(config, harness.context)
    referral = example_json("referral")
    referral["toAgency"] = {"agencyId": "no-such-agency"}
    async with harness.running(gateway):
        await harness.until(lambda: gateway.port)
        status, body, _ = await post(gateway.port, "/v1/events/referral", referral)
    assert status == 422, body
    assert body["error"] == "invalid-event"
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [
        ("toAgency.agencyId", "unknown_addressee")
    ]
    assert "--topic" not in str(body)
