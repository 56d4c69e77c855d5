"""Turn a Kafka client's failure to connect into a one-line TLS error, when TLS is the cause.

Clients start through :func:`start_client` (aiokafka) or :func:`kafka_python_client`; when the
first connection fails, :func:`explain` probes the bootstrap servers the way the client
would connect (:mod:`exchange.tls.diagnose`) and returns the error to raise instead, or None.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from aiokafka.errors import KafkaConnectionError
from kafka.errors import KafkaError as KafkaPythonError

from exchange.tls.diagnose import probe
from exchange.tls.exceptions import TlsError, TlsHandshakeError

T = TypeVar("T")


class KafkaConnection(Protocol):
    """What the diagnosis needs of :class:`exchange.settings.KafkaSettings` (a Protocol, so
    that this package sits below the settings that use its contexts)."""

    @property
    def bootstrap_servers(self) -> str: ...

    @property
    def ssl_cafile(self) -> Path | None: ...

    @property
    def uses_tls(self) -> bool: ...

    def ssl_context(self) -> ssl.SSLContext: ...

    def kafka_python_kwargs(self) -> dict[str, Any]: ...


def explain(settings: KafkaConnection, *, again_after_s: float = 2.0) -> TlsHandshakeError | None:
    """Why the bootstrap servers of ``settings`` refuse a connection at the TLS level, or None
    when one of them completes the handshake (or none answers).

    Only a refusal every answering server agrees on, twice ``again_after_s`` apart, is
    reported: a node that is starting or stopping closes connections mid-handshake just as a
    plaintext listener does, and must not stop a client whose other servers (or the same one,
    a moment later) speak TLS."""
    try:
        context = settings.ssl_context() if settings.uses_tls else None
    except TlsError:
        return None  # the client itself already failed on the file, naming it
    problem = _agreed(settings, context)
    if problem is not None and again_after_s > 0:
        time.sleep(again_after_s)
        problem = _agreed(settings, context)
    return problem


def _agreed(
    settings: KafkaConnection, context: ssl.SSLContext | None
) -> TlsHandshakeError | None:
    """The first server's refusal when every bootstrap server refuses; else None."""
    first: TlsHandshakeError | None = None
    for address in settings.bootstrap_servers.split(","):
        problem = probe(address, context=context, cafile=settings.ssl_cafile)
        if problem is None:
            return None
        first = first or problem
    return first


async def start_client(client: Any, settings: KafkaConnection) -> None:
    """``await client.start()`` for an aiokafka producer, consumer or admin client; a failure
    to connect that TLS explains raises the :class:`TlsHandshakeError` instead. A client that
    failed to start is stopped (its connections closed) before the error is raised."""
    try:
        await client.start()
    except KafkaConnectionError as error:
        await client.stop()
        problem = await asyncio.to_thread(explain, settings)
        if problem is None:
            raise
        raise problem from error


def kafka_python_client(factory: Callable[..., T], settings: KafkaConnection, **extra: Any) -> T:
    """``factory(**settings.kafka_python_kwargs(), **extra)`` (a kafka-python client class);
    a failure to connect that TLS explains raises the :class:`TlsHandshakeError` instead."""
    try:
        return factory(**settings.kafka_python_kwargs(), **extra)
    except KafkaPythonError as error:
        problem = explain(settings)
        if problem is None:
            raise
        raise problem from error
