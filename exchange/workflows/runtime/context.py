"""What every workflow is given: the :class:`WorkflowContext`, and the shapes of a workflow, a
handler and the protected mode's hooks."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

import faust

from exchange.clock import Clock, system_clock
from exchange.codec import DecodedEvent, EncodedEvent, EventCodec
from exchange.codec.encoder import EventEncoder, PlainEncoder
from exchange.topology.model import Topology
from exchange.workflows.runtime.metrics import WorkflowMetrics
from exchange.workflows.runtime.records import Incoming

if TYPE_CHECKING:
    from exchange.workflows.runtime.streams import Streams

AGENCY = "workflows"
"""The agency (principal ``exchange.workflows``) the worker acts as."""


class Outcome(enum.Enum):
    """What a handler may return. ``DUPLICATE``: the handler recognised the event as one
    handled before (it keeps its topic's dedupe itself); the other handlers of the topic are
    skipped and the duplicate is counted."""

    DUPLICATE = "duplicate"


Handler = Callable[[DecodedEvent, Incoming], Awaitable[Outcome | None]]
Workflow = Callable[[faust.App, "WorkflowContext", "Streams"], object]
"""A workflow is built with the app, the context and the streams: it registers its handlers on
the streams, its tables, and its timers (:class:`~.ticker.Ticker`)."""


class Opened(Protocol):
    @property
    def decoded(self) -> DecodedEvent: ...


class Protection(Protocol):
    """The protected mode's hooks (:class:`.protection.WorkerProtection`)."""

    @property
    def encoder(self) -> EventEncoder: ...
    @property
    def holding(self) -> bool:
        """True while new events are held (the fail-closed audit policy)."""

    def attach(self, app: faust.App, context: WorkflowContext) -> None: ...
    def table(self, name: str, table: Any) -> Any: ...
    async def open(self, record: Incoming) -> Opened | None: ...
    def peek(self, record: Incoming) -> DecodedEvent | None: ...
    async def delivered(self, opened: Any, record: Incoming) -> None: ...
    async def routed(self, encoded: EncodedEvent, topic: str) -> None: ...


@dataclass(frozen=True)
class WorkflowContext:
    """What every workflow needs, injected into the app factory."""

    codec: EventCodec
    topology: Topology
    metrics: WorkflowMetrics
    clock: Clock = system_clock
    source: str = "/agencies/workflows"
    time_scale: float = 1.0
    """Divides every workflow duration (deadlines, alert steps): 60 turns minutes into seconds,
    for demonstrations and tests. 1.0 in production."""
    protection: Protection | None = None
    """Run protected (see :mod:`.protection`); None: the plain codec."""
    batch_max: int = 500
    """A batched topic's agent (:mod:`.batches`) handles up to this many events at once..."""
    batch_within: float = 0.01
    """... or what came within this many seconds (the latency a batch may add)."""
    encoder: EventEncoder = field(init=False)
    """How every output is encoded, chosen once here: sealed and signed when protected."""

    def __post_init__(self) -> None:
        protection = self.protection
        chosen = protection.encoder if protection is not None else PlainEncoder(self.codec)
        object.__setattr__(self, "encoder", chosen)

    def scaled(self, duration: timedelta) -> timedelta:
        return duration / self.time_scale

    @property
    def deadletter_topic(self) -> str:
        return self.topology.deadletter_topic(AGENCY).name


__all__ = [
    "AGENCY",
    "Handler",
    "Opened",
    "Outcome",
    "Protection",
    "Workflow",
    "WorkflowContext",
]
