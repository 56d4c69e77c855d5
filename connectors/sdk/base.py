"""The lifecycle every connector shares, and what it is given to run.

``Connector`` is the ABC: :meth:`~Connector.setup`, :meth:`~Connector.run` until a stop event,
:meth:`~Connector.flush`, :meth:`~Connector.close`; :meth:`~Connector.serve` runs them in that
order and always flushes and closes. :class:`connectors.sdk.source.Source` (agency system → bus)
and :class:`connectors.sdk.sink.Sink` (bus → agency system) build on it; an adapter subclasses one
of them and implements two or three methods.

A connector never reads the environment: :class:`ConnectorContext` gives it the connection
settings of any agency's principal, the agency's protection (every source seals and signs,
every sink verifies, opens and quarantines), the topology, the codec and the metrics registry.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from prometheus_client import CollectorRegistry

from connectors.sdk.config import ConnectorConfig
from connectors.sdk.metrics import ConnectorMetrics
from connectors.sdk.progress import ProgressStore
from exchange.codec import EventCodec
from exchange.metrics import BusMetrics
from exchange.protection.protected import ProtectedCodec
from exchange.protection.unprotected import Unprotected
from exchange.settings import KafkaSettings
from exchange.tls.pki import LocalPki
from exchange.topology.model import Topology

log = logging.getLogger(__name__)

C = TypeVar("C", bound=ConnectorConfig)


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector is given by whoever runs it (the CLI, a test harness)."""

    kafka_for: Callable[[str], KafkaSettings]
    """Connection settings authenticated as an agency's principal (by agency id)."""
    topology: Topology
    codec: EventCodec
    registry: CollectorRegistry
    protection_for: Callable[[str], ProtectedCodec | Unprotected]
    """The agency's protected codec (by agency id): sources seal and sign with it, sinks
    verify and open with it. :class:`Unprotected` only when the runner asked for it."""
    pki: LocalPki | None = None
    """The local CA: it issues a certificate to a server connector (the HTTP gateway) that is
    given none of its own, so that it serves TLS by default."""

    @property
    def bus_metrics(self) -> BusMetrics:
        return BusMetrics.on(self.registry)

    @property
    def metrics(self) -> ConnectorMetrics:
        return ConnectorMetrics.on(self.registry)


class Connector(ABC, Generic[C]):
    """One running adapter. Subclasses set ``config_model`` to their config class."""

    config_model: ClassVar[type[ConnectorConfig]] = ConnectorConfig

    def __init__(self, config: C, context: ConnectorContext) -> None:
        self.config = config
        self.context = context
        self.metrics = context.metrics
        self.name = config.name
        self._progress: ProgressStore | None = None
        self._running = False

    @property
    def progress(self) -> ProgressStore:
        """This connector's progress file (opened on first use)."""
        if self._progress is None:
            self._progress = ProgressStore(self.config.progress_file)
        return self._progress

    def kafka(self, agency: str | None = None) -> KafkaSettings:
        return self.context.kafka_for(agency or self.config.agency)

    def protection(self) -> ProtectedCodec | Unprotected:
        """The config's agency's protection (:attr:`ConnectorContext.protection_for`)."""
        return self.context.protection_for(self.config.agency)

    async def setup(self) -> None:
        """Open connections; called once before :meth:`run`."""

    @abstractmethod
    async def run(self, stop: asyncio.Event) -> None:
        """Move records until ``stop`` is set."""

    async def flush(self) -> None:
        """Make everything taken so far durable (called after :meth:`run`, also on error)."""

    async def close(self) -> None:
        """Release connections; the base closes the progress file."""
        if self._progress is not None:
            self._progress.close()
            self._progress = None

    def not_ready(self) -> str | None:
        """None while it moves records (set up, not stopping), else why not: the ``/readyz``
        answer of ``exchange connect run``."""
        return None if self._running else "not running (starting, or stopping)"

    async def serve(self, stop: asyncio.Event) -> None:
        """setup → run until ``stop`` → flush → close (flush and close also after an error,
        in setup too: ``close`` must cope with a half-done ``setup``)."""
        try:
            await self.setup()
            self._running = True
            await self.run(stop)
        finally:
            self._running = False
            try:
                await self.flush()
            finally:
                await self.close()
        log.info("connector %s stopped", self.name)
