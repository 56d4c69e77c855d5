"""Webhook sink: events addressed to an agency, POSTed to its HTTP endpoint, signed.

Reads the config's topics (an agency's inboxes) as that agency and POSTs each event as a
CloudEvents JSON document (``application/cloudevents+json``: ``id``, ``source``, ``type``,
``time``, ``subject``, ``data``) signed as the Standard Webhooks specification prescribes:

- ``webhook-id``: ``<ce_source>#<ce_id>``, the same on every retry: the receiver's idempotency key;
- ``webhook-timestamp``: Unix seconds of this attempt;
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>``.

A 2xx answer is a delivery. 408, 425, 429, 5xx and connection failures are retried with the
config's backoff (``Retry-After`` honoured); any other 4xx means the endpoint refuses this event
for good, so it is dead-lettered at once. After ``retry.max_attempts`` the event is
dead-lettered and the next one goes. One event at a time per partition: a case's events (same
key, same partition) reach the endpoint in order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any, Literal

from aiokafka import ConsumerRecord
from pydantic import AnyHttpUrl, Field

from connectors.sdk.exceptions import PermanentDeliveryError
from connectors.sdk.http_sink import HttpSink, HttpSinkConfig
from connectors.sdk.sink import idempotency_key
from exchange.codec import DecodedEvent


class WebhookConfig(HttpSinkConfig):
    kind: Literal["webhook"] = "webhook"
    url: AnyHttpUrl = Field(description="The agency's endpoint.")
    secret_file: Path = Field(description="File holding the HMAC secret shared with the agency.")


def sign(secret: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value (Standard Webhooks, v1 = HMAC-SHA256)."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()


def cloudevent_json(decoded: DecodedEvent) -> dict[str, Any]:
    attributes = decoded.attributes
    return {
        "specversion": attributes.specversion,
        "id": attributes.id,
        "source": attributes.source,
        "type": attributes.type,
        "time": attributes.time.isoformat(),
        "subject": attributes.subject,
        "dataschema": attributes.dataschema,
        "datacontenttype": "application/json",
        "data": decoded.event.model_dump(mode="json", exclude_none=True),
    }


class WebhookSink(HttpSink[WebhookConfig]):
    config_model = WebhookConfig

    async def setup(self) -> None:
        secret = self.config.secret_file.read_bytes().strip()
        if not secret:
            raise PermanentDeliveryError(str(self.config.secret_file), "the secret file is empty")
        self._secret = secret
        await super().setup()

    async def deliver(self, decoded: DecodedEvent, record: ConsumerRecord) -> None:
        body = json.dumps(cloudevent_json(decoded), ensure_ascii=False).encode()
        webhook_id = idempotency_key(decoded)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/cloudevents+json; charset=utf-8",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._secret, webhook_id, timestamp, body),
        }
        await self.post(str(self.config.url), body, headers)
