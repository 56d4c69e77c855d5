"""CAP sink: the emergency missing-minor alerts, to public-alert endpoints and a screens' folder.

Reads ``exchange.public-alert`` (the alert workflow's OASIS CAP 1.2 Alert, Update and Cancel
messages) as the ``public-alerts`` system and hands each message's CAP document to:

- every URL in ``endpoints``: ``POST`` with ``content-type: application/cap+xml`` and
  ``Idempotency-Key: <ce_source>#<ce_id>``; 2xx is a delivery, 408/425/429/5xx and connection
  failures are retried with backoff, another 4xx dead-letters the message;
- ``folder``: ``<identifier>.xml``, written to a temporary name and renamed, so a screen
  system polling the folder never reads half a file, and a repeat overwrites the same file.

A message is done when every target has it; on a retry only the targets that do not have it
yet are tried again. A document that is not valid CAP 1.2 (checked with
:func:`exchange.cap.validate_cap`) is dead-lettered without reaching any screen.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from aiokafka import ConsumerRecord
from pydantic import AnyHttpUrl, Field, model_validator

from connectors.sdk.exceptions import DeliveryError, PermanentDeliveryError
from connectors.sdk.http_sink import HttpSink, HttpSinkConfig
from connectors.sdk.sink import idempotency_key
from exchange.cap import validate_cap
from exchange.codec import DecodedEvent
from exchange.models.missing_persons import EmergencyAlert

CAP_MEDIA_TYPE = "application/cap+xml"
MAX_PENDING = 1000  # messages remembered as partly delivered


class CapSinkConfig(HttpSinkConfig):
    kind: Literal["cap"] = "cap"
    agency: str = "public-alerts"
    topics: tuple[str, ...] = ("exchange.public-alert",)
    endpoints: tuple[AnyHttpUrl, ...] = Field((), description="Public-alert systems to POST to.")
    folder: Path | None = Field(None, description="Folder that screen systems read.")

    @model_validator(mode="after")
    def _somewhere(self) -> CapSinkConfig:
        if not self.endpoints and self.folder is None:
            raise ValueError("endpoints, folder: give at least one target")
        return self


class CapSink(HttpSink[CapSinkConfig]):
    config_model = CapSinkConfig

    async def setup(self) -> None:
        if self.config.folder is not None:
            self.config.folder.mkdir(parents=True, exist_ok=True)
        self._done: dict[str, set[str]] = {}
        await super().setup()

    async def deliver(self, decoded: DecodedEvent, record: ConsumerRecord) -> None:
        alert = decoded.event
        if not isinstance(alert, EmergencyAlert):
            raise PermanentDeliveryError("cap", f"not an EmergencyAlert: {decoded.attributes.type}")
        problems = validate_cap(alert.cap)
        if problems:
            raise PermanentDeliveryError("cap", f"invalid CAP 1.2: {'; '.join(problems[:5])}")
        key = idempotency_key(decoded)
        if key not in self._done and len(self._done) >= MAX_PENDING:
            del self._done[next(iter(self._done))]  # given up on long ago (dead-lettered)
        done = self._done.setdefault(key, set())
        failures: list[DeliveryError] = []
        if self.config.folder is not None and "folder" not in done:
            self._write(alert)
            done.add("folder")
        for endpoint in self.config.endpoints:
            url = str(endpoint)
            if url in done:
                continue
            try:
                await self.post(
                    url,
                    alert.cap.encode(),
                    {"content-type": CAP_MEDIA_TYPE, "Idempotency-Key": key},
                    refused="alert",
                )
            except PermanentDeliveryError:
                self._done.pop(key, None)
                raise
            except DeliveryError as error:
                failures.append(error)
                continue
            done.add(url)
        if failures:
            after = [f.retry_after for f in failures if f.retry_after is not None]
            problem = "; ".join(str(f) for f in failures)
            raise DeliveryError("cap endpoints", problem, retry_after=max(after, default=None))
        self._done.pop(key, None)

    def _write(self, alert: EmergencyAlert) -> None:
        folder = self.config.folder
        assert folder is not None  # noqa: S101 - checked by the caller
        target = folder / f"{alert.identifier}.xml"
        temporary = folder / f".{alert.identifier}.xml.part"
        try:
            with temporary.open("w", encoding="utf-8") as handle:
                handle.write(alert.cap)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(target)
        except OSError as error:
            raise DeliveryError(str(folder), f"cannot write: {error}") from error
