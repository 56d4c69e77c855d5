"""Connectors: adapters that bring agency systems' data onto the bus and deliver it out.

The SDK: :class:`~connectors.source.Source` and :class:`~connectors.sink.Sink` (lifecycle
setup → run → flush → close), typed configs (:mod:`connectors.config`), progress kept across
restarts (:mod:`connectors.progress`), retries with backoff (:mod:`connectors.retry`),
dead letters with error headers, and a test harness (:mod:`connectors.testing`). Built-in
adapters, one per module: ``http_gateway``, ``file_drop``, ``outbox``, ``webhook``,
``cap_sink``. Run one with ``exchange connect run CONFIG``; write one with ``GUIDE.md``.
"""

from connectors.base import Connector, ConnectorContext
from connectors.config import ConnectorConfig, RetryPolicy
from connectors.sink import Sink, SinkConfig
from connectors.source import Outcome, Source, SourceRecord

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
