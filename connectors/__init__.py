"""Connectors: adapters that bring agency systems' data onto the bus and deliver it out.

Two floors: :mod:`connectors.sdk` is what a connector developer builds on
(:class:`~connectors.sdk.source.Source` and :class:`~connectors.sdk.sink.Sink` with the lifecycle
setup → run → flush → close, typed configs, progress kept across restarts, retries with
backoff, dead letters with error headers, the HTTP sink base, a test harness);
:mod:`connectors.adapters` holds the built-in adapters, one per module (``http_gateway``,
``file_drop``, ``outbox``, ``webhook``, ``cap_sink``), built on the SDK only. Above both,
:mod:`connectors.registry` finds a ``kind``'s class and :mod:`connectors.cli` is the
``exchange connect`` command (added to ``exchange`` through an entry point). Run one with
``exchange connect run CONFIG``; write one with ``GUIDE.md``.
"""

from connectors.sdk.base import Connector, ConnectorContext
from connectors.sdk.config import ConnectorConfig, RetryPolicy
from connectors.sdk.sink import Sink, SinkConfig
from connectors.sdk.source import Outcome, Source, SourceRecord

__all__ = [
    "Connector",
    "ConnectorConfig",
    "ConnectorContext",
    "Outcome",
    "RetryPolicy",
    "Sink",
    "SinkConfig",
    "Source",
    "SourceRecord",
]
