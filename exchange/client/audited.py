"""The one way an entry point opens a publisher: audited, and fail-closed by the audit policy.

``exchange publish``, the report deadlines (``exchange report serve``), every connector's source
and the HTTP gateway publish through :func:`audited_publisher`. It opens the process's
:class:`~exchange.evidence.publishing.PublishingAudit` for the agency (its anchored chain and
its guard) and a :class:`~exchange.client.publisher.Publisher` wired to both, so that

- every acknowledged event is recorded as ``published`` in the agency's chain
  (:meth:`Publisher.record_published`), whose head is signed and, by the notary, time-stamped;
- no event is sent while the fail-closed policy refuses them
  (:meth:`Publisher.admit` raises
  :class:`~exchange.evidence.exceptions.AuditUnavailableError`, a one-line error with
  ``retry_after``).

An entry point cannot get a publisher without its audit: :class:`Evidence` (the key store that
signs the checkpoints, the audit settings) is a required argument.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from exchange.client.publisher import Publisher
from exchange.client.translate import translated
from exchange.codec import EventCodec
from exchange.evidence.guard import NOTARY_TOPIC
from exchange.evidence.publishing import PublishingAudit
from exchange.metrics import BusMetrics
from exchange.protection.keys import KeyStore
from exchange.settings import AuditSettings, KafkaSettings
from exchange.topology.model import Topology


@dataclass(frozen=True)
class Evidence:
    """What an entry point's publishers need for their audit: the key store holding the
    agencies' ``sig`` keys (checkpoints) and the audit settings (rhythm, fail-closed policy)."""

    keys: KeyStore
    settings: AuditSettings = field(default_factory=AuditSettings)


@contextlib.asynccontextmanager
async def audited_publisher(
    settings: KafkaSettings,
    codec: EventCodec,
    topology: Topology,
    *,
    agency: str,
    source: str,
    metrics: BusMetrics,
    evidence: Evidence,
    **options: Any,
) -> AsyncIterator[Publisher]:
    """A connected :class:`Publisher` of ``agency`` whose events are audited and guarded (see
    the module docs); ``options`` go to the publisher (``protection``, ``linger_ms``)."""
    async with contextlib.AsyncExitStack() as opened:
        with translated(settings, f"auditing as {agency!r}"):
            audit = await opened.enter_async_context(PublishingAudit(
                settings, agency, evidence.keys, evidence.settings, metrics.registry,
                notary_partitions=topology.topic(NOTARY_TOPIC).partitions,
            ))
        yield await opened.enter_async_context(Publisher(
            settings, codec, topology, agency=agency, source=source, metrics=metrics,
            audit=audit.trail, guard=audit.guard, **options,
        ))
