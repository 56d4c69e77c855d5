"""HTTP sinks: a sink that POSTs each event to endpoints, on one session, with one retry rule.

:class:`HttpSink` opens its :class:`~connectors.sdk.http_client.HttpClient` in ``setup`` and
closes it in ``close`` (a sink whose endpoint has a CA or a token of its own overrides
:meth:`HttpSink.client`);
:meth:`HttpSink.post` sends one body and sorts the answer: 2xx is a delivery; 408, 425, 429,
5xx and connection failures raise :class:`~connectors.sdk.exceptions.DeliveryError` (retried by
the sink's backoff, ``Retry-After`` honoured); any other status raises
:class:`~connectors.sdk.exceptions.PermanentDeliveryError` (dead-lettered at once). The webhook
and the CAP sink are built on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import aiohttp
from pydantic import Field

from connectors.sdk.exceptions import DeliveryError, PermanentDeliveryError
from connectors.sdk.http_client import HttpClient
from connectors.sdk.sink import Sink, SinkConfig

RETRYABLE_STATUS = frozenset({408, 425, 429})
"""Besides 5xx: statuses that say "try again later" (timeout, too early, too many requests)."""


class HttpSinkConfig(SinkConfig):
    timeout_s: float = Field(10.0, gt=0, description="Limit of one request, in seconds.")


H = TypeVar("H", bound=HttpSinkConfig)


def retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` header's delay in seconds (its HTTP-date form is not used here)."""
    try:
        return float(value) if value else None
    except ValueError:
        return None


class HttpSink(Sink[H]):
    """Base of sinks that POST to HTTP endpoints; ``config`` is an :class:`HttpSinkConfig`."""

    _http: HttpClient | None = None

    def client(self) -> HttpClient:
        """The HTTP client of this sink (default: the system's trust store, no token)."""
        return HttpClient(timeout_s=self.config.timeout_s)

    async def setup(self) -> None:
        self._http = self.client()
        await self._http.open()
        await super().setup()

    async def close(self) -> None:
        try:
            if self._http is not None:
                await self._http.close()
        finally:
            self._http = None
            await super().close()

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, refused: str = "event"
    ) -> None:
        """POST ``body`` to ``url``; return on 2xx, else raise as the module docstring says.

        ``refused`` names what a permanent refusal refuses, for the dead letter's message."""
        if self._http is None:
            raise RuntimeError("call setup() first")
        session = self._http.session
        try:
            async with session.post(url, data=body, headers=dict(headers)) as response:
                status = response.status
                after = retry_after(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(url, f"{type(error).__name__}: {error}") from error
        if 200 <= status < 300:
            return
        if status >= 500 or status in RETRYABLE_STATUS:
            raise DeliveryError(url, f"HTTP {status}", retry_after=after)
        raise PermanentDeliveryError(url, f"HTTP {status}: the endpoint refuses this {refused}")
