"""Retries with backoff, shared by every adapter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from connectors.sdk.config import RetryPolicy
from connectors.sdk.exceptions import DeliveryError, PermanentDeliveryError, RetriesExhaustedError
from connectors.sdk.metrics import ConnectorMetrics

T = TypeVar("T")


class Interrupted(BaseException):
    """The connector is stopping while a record waits for a retry: leave it unacknowledged
    (it is delivered again after the restart) instead of dead-lettering it."""


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    what: str,
    connector: str,
    metrics: ConnectorMetrics,
    retryable: tuple[type[BaseException], ...] = (DeliveryError,),
    stop: asyncio.Event | None = None,
) -> T:
    """Call ``attempt`` until it succeeds, at most ``policy.max_attempts`` times.

    Errors in ``retryable`` are retried after the policy's backoff (or the error's
    ``retry_after``); :class:`PermanentDeliveryError` and anything else are raised at once.
    When every attempt failed, :class:`RetriesExhaustedError` carries the last error.
    Raises :class:`Interrupted` if ``stop`` is set while waiting.
    """
    delays = policy.delays()
    attempts = 0
    while True:
        attempts += 1
        try:
            return await attempt()
        except PermanentDeliveryError:
            metrics.errors.labels(connector, "PermanentDeliveryError").inc()
            raise
        except retryable as error:
            metrics.errors.labels(connector, type(error).__name__).inc()
            delay = next(delays, None)
            if delay is None:
                raise RetriesExhaustedError(what, attempts, error) from error
            after = getattr(error, "retry_after", None)
            if isinstance(after, int | float) and after > 0:
                delay = min(float(after), policy.max_backoff_s)
            metrics.retries.labels(connector).inc()
            await _sleep(delay, stop)


async def _sleep(delay: float, stop: asyncio.Event | None) -> None:
    if stop is None:
        await asyncio.sleep(delay)
        return
    try:
        await asyncio.wait_for(stop.wait(), delay)
    except TimeoutError:
        return
    raise Interrupted
