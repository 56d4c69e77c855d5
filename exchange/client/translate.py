"""The Kafka client's errors as the project's: one place that knows aiokafka's error classes.

Where a client is opened or used for an entry point (CLI command, connector, gateway), its
errors pass through :func:`translated` and come out as :class:`~exchange.client.exceptions`
errors that say what to do: a broker that cannot be reached, a topic or group the principal may
not use, anything else from the client.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from exchange.client.exceptions import (
    BusUnreachableError,
    KafkaClientError,
    NotAuthorizedError,
)
from exchange.errors import ExchangeError
from exchange.settings import KafkaSettings


def translate(error: BaseException, settings: KafkaSettings, what: str) -> ExchangeError:
    """``error`` of the Kafka client, met while using ``what`` as ``settings``' principal."""
    if isinstance(error, ExchangeError):
        return error
    if isinstance(error, KafkaConnectionError):
        return BusUnreachableError(settings.bootstrap_servers, error)
    if isinstance(error, TopicAuthorizationFailedError | GroupAuthorizationFailedError):
        return NotAuthorizedError(settings.username, what, error)
    return KafkaClientError(error)


@contextmanager
def translated(settings: KafkaSettings, what: str) -> Iterator[None]:
    """Raise the Kafka client's errors in the block as the project's (see :func:`translate`)."""
    try:
        yield
    except KafkaError as error:
        raise translate(error, settings, what) from error
