"""A real RFC 3161 time-stamping authority (``openssl ts`` behind HTTP,
:class:`~exchange.evidence.tsa_authority.TsaServer`) and the notary anchoring with it, for tests
that take the authority away mid-run and bring it back on the same port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry

from exchange.evidence import notary
from exchange.evidence.metrics import EvidenceMetrics
from exchange.evidence.tsa import TsaClient
from exchange.evidence.tsa_authority import TsaServer
from exchange.protection.keys import KeyStore
from exchange.settings import KafkaSettings


@dataclass
class Authority:
    """The TSA of a test: :meth:`outage` stops it (nothing answers on its port), :meth:`back`
    starts it again on the same port with the same certificate."""

    folder: Path
    server: TsaServer | None = None
    port: int = 0
    answered: int = 0
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    core: notary.NotaryCore | None = None

    def start(self) -> TsaServer:
        self.server = TsaServer(self.folder, port=self.port).start()
        self.port = int(self.server.url.split(":")[2].split("/")[0])
        return self.server

    def outage(self) -> None:
        assert self.server is not None
        self.answered += self.server.answered
        self.server.stop()
        self.server = None

    def back(self) -> None:
        self.start()

    def stop(self) -> None:
        if self.server is not None:
            self.outage()

    def tsa_failures(self) -> float:
        return self.registry.get_sample_value("exchange_notary_tsa_failures_total") or 0.0


@contextlib.asynccontextmanager
async def notary_with_authority(
    kafka_as: Callable[[str], KafkaSettings], keys: KeyStore, folder: Path, *,
    interval_s: float = 0.5,
) -> AsyncIterator[Authority]:
    """A running TSA and a notary (as the joint-meeting office, checking checkpoints with
    ``keys``) that anchors every ``interval_s``; both stopped on exit."""
    authority = Authority(folder)
    server = authority.start()
    core = authority.core = notary.NotaryCore(keys, EvidenceMetrics.on(authority.registry))
    stop = asyncio.Event()
    running = asyncio.create_task(notary.run(
        kafka_as("joint-meeting-office"), core,
        TsaClient(server.url, ca_file=server.ca_file, timeout_s=2),
        notary.NotaryConfig(interval_s=interval_s), stop,
    ))
    try:
        yield authority
    finally:
        stop.set()
        await running
        authority.stop()
