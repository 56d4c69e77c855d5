"""The gateway's OpenAPI document states the limits that are enforced (pure: no broker).

Every event and input limit of ``info.x-limits`` is probed against validation (the probes of
tests/models/test_limits.py); the gateway's own limits are its configuration's values and the
checks the gateway runs; every string of every event schema carries the text limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.adapters.http_gateway_config import MAX_IDEMPOTENCY_KEY, idempotency_key_problem
from connectors.adapters.http_openapi import openapi_document
from exchange.models.registry import EVENTS
from exchange.models.text_rules import MAX_TEXT
from tests.models.test_limits import PROBES, check_documented


def _limits(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {limit["name"]: limit for limit in document["info"]["x-limits"]}


def test_the_documented_event_and_input_limits_are_enforced() -> None:
    document = openapi_document(list(EVENTS))
    assert set(check_documented(document["info"]["x-limits"])) == set(PROBES)
    for limit in document["info"]["x-limits"]:
        assert limit["bound"] in document["info"]["description"]


def test_the_gateway_limits_are_its_configuration() -> None:
    limits = _limits(openapi_document(["rescue"], max_body_bytes=4321, body_timeout_s=2.5))
    assert limits["body-bytes"]["value"] == 4321
    assert limits["body-seconds"]["value"] == 2.5
    key = limits["idempotency-key-length"]["value"]
    assert idempotency_key_problem("k" * key) is None
    assert idempotency_key_problem("k" * (key + 1)) is not None
    document = openapi_document(["rescue"])
    header = document["paths"]["/v1/events/rescue"]["post"]["parameters"][0]
    assert header["schema"]["maxLength"] == MAX_IDEMPOTENCY_KEY == key


def _strings(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "string" and "format" not in node and "enum" not in node:
            yield node
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def test_every_event_string_states_its_length_limit() -> None:
    schemas = openapi_document(list(EVENTS))["components"]["schemas"]
    answers = {"Error", "Accepted", "Unavailable"}
    found = [s for name, schema in schemas.items() if name not in answers
             for s in _strings(schema)]
    assert found
    assert all(0 < s["maxLength"] <= MAX_TEXT for s in found), found[:3]
