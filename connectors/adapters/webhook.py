"""Webhook sink: events addressed to an agency, POSTed to its HTTP endpoint, signed.

Reads the config's topics (an agency's inboxes) as that agency and POSTs each event as a
CloudEvents JSON document (``application/cloudevents+json``: ``id``, ``source``, ``type``,
``time``, ``subject``, ``data``) signed as the Standard Webhooks specification prescribes:

- ``webhook-id``: ``<ce_source>#<ce_id>``, the same on every retry: the receiver's idempotency key;
- ``webhook-timestamp``: Unix seconds of this attempt;
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``.

The secret follows the standard's format: ``whsec_`` and the base64 of 24 to 64 random bytes,
the HMAC key being those decoded bytes, so a receiver verifies with any Standard Webhooks
library (``standardwebhooks.Webhook(secret).verify(body, headers)``). Make one with
``exchange connect new-secret FILE`` (written with mode 0600) and give the file's one line to
the receiving agency over a channel both trust (in person, or their encrypted mail); never on
the bus. A secret file in another format is refused at start, naming the rule.

A 2xx answer is a delivery. 408, 425, 429, 5xx and connection failures are retried with the
config's backoff (``Retry-After`` honoured); any other 4xx means the endpoint refuses this event
for good, so it is dead-lettered at once. After ``retry.max_attempts`` the event is
dead-lettered and the next one goes. One event at a time per partition: a case's events (same
key, same partition) reach the endpoint in order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any, Literal

from aiokafka import ConsumerRecord
from pydantic import AnyHttpUrl, Field

from connectors.sdk.exceptions import ConnectorConfigError
from connectors.sdk.http_sink import HttpSink, HttpSinkConfig
from connectors.sdk.sink import idempotency_key
from exchange.codec import DecodedEvent
from exchange.models.exceptions import FieldError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the standard's prefix, not a secret
SECRET_BYTES = (24, 64)
"""Length of a secret's key in bytes (Standard Webhooks: at least 24, at most 64)."""


class WebhookConfig(HttpSinkConfig):
    kind: Literal["webhook"] = "webhook"
    url: AnyHttpUrl = Field(description="The agency's endpoint.")
    secret_file: Path = Field(
        description="File holding the whsec_<base64> secret shared with the agency "
        "(make one with `exchange connect new-secret FILE`)."
    )


def new_secret() -> str:
    """A fresh secret in the standard's format: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def write_new_secret(path: Path) -> str:
    """Write :func:`new_secret` to a new file readable by its owner only; return it."""
    secret = new_secret()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return secret


def secret_key(text: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (``ValueError`` naming the rule if not)."""
    text = text.strip()
    if not text.startswith(SECRET_PREFIX):
        raise ValueError(
            "the secret must be whsec_<base64> (Standard Webhooks); make one with "
            "`exchange connect new-secret FILE` and share it with the receiving agency"
        )
    try:
        key = base64.b64decode(text.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError("the part after whsec_ is not base64") from None
    low, high = SECRET_BYTES
    if not low <= len(key) <= high:
        raise ValueError(f"the secret's key is {len(key)} bytes; use {low} to {high}")
    return key


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
        path = self.config.secret_file
        try:
            self._secret = secret_key(path.read_text(encoding="ascii", errors="strict"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            reason = error.reason if isinstance(error, UnicodeDecodeError) else str(error)
            raise ConnectorConfigError(
                path, [FieldError("secret_file", "whsec_format", reason)]
            ) from None
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
