"""The faust-streaming runtime of the workflows, created by a factory (no module-level app).

DESIGN.md section 5 is closed here and in each workflow module:

- :func:`create_app` builds a ``faust.App`` from settings: SASL credentials of the
  ``exchange.workflows`` principal, app id and internal topics under the ``workflows.`` prefix
  that its ACLs grant, internal topics (changelogs) with the same replication as the data topics,
  partition counts taken from ``topology/`` so a table's changelog always matches its source.
- :class:`Guard` wraps each event's handling: duplicates (same ``ce_source`` + ``ce_id``) are
  skipped, and any failure (undecodable, invalid, or a workflow that raises) sends the record
  with its reason to ``exchange.deadletter.workflows`` before the stream moves on; faust's
  default, an exception that acks and drops the event, never happens.
- Messages a workflow sends while handling an event go out at once (:func:`publish`), not as
  faust *attachments* (held until the source offset's commit, which cost every dispatch up to a
  commit interval). At-least-once holds because faust flushes the producer before it commits
  offsets, and a record the broker refuses for good crashes the worker (see :func:`publish`).
  CloudEvents ids are derived from the source event's, so a replay after a crash produces the
  same ids and receivers can drop the copy.
- Protected mode (``WorkflowContext.protection``, :mod:`exchange.workflows.protection`): the
  guard verifies and opens each input first (what fails goes to the quarantine topic, never to a
  handler), :meth:`Streams.publish` seals and signs each output, :meth:`Streams.table` seals
  table values at rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import faust
from prometheus_client import CollectorRegistry, Counter, Histogram

from exchange.client.consumer import DeadLetter, dead_letter_headers
from exchange.client.metrics import BusMetrics
from exchange.codec import DecodedEvent, EventCodec
from exchange.codec.exceptions import DecodeError
from exchange.settings import KafkaSettings
from exchange.topology.model import Topology
from exchange.workflows import positions
from exchange.workflows.alerts import Clock, system_clock

log = logging.getLogger(__name__)

AGENCY = "workflows"
PRODUCER_BUFFER = 10_000
"""Table changelog records faust may hold before it pauses the streams to drain them (faust's
default, 100, paused every sighting's stream in 0.1 s steps under load)."""


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
    """Run protected (see :mod:`exchange.workflows.protection`); None: plain codec, as before."""

    def scaled(self, duration: timedelta) -> timedelta:
        return duration / self.time_scale

    @property
    def deadletter_topic(self) -> str:
        return self.topology.deadletter_topic(AGENCY).name


class WorkflowMetrics:
    """The workflows' metrics, on the injected registry (next to the bus's own)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.bus = BusMetrics.on(registry)
        self.duplicates = Counter(
            "exchange_workflow_duplicates_total",
            "Events skipped because the same ce_source + ce_id was handled before.",
            ["topic"], registry=registry,
        )
        self.rewinds = Counter(
            "exchange_workflow_rewinds_total",
            "Source partitions sought back because records were read but never handled "
            "(a faust defect after restarts; see exchange/workflows/positions.py).",
            ["topic"], registry=registry,
        )
        self.sightings_routed = Counter(
            "exchange_sightings_routed_total",
            "Sightings dispatched to a police unit, by unit, dispatch kind and routing rule.",
            ["agency", "unit", "kind", "rule"], registry=registry,
        )
        self.sightings_flagged = Counter(
            "exchange_sightings_flagged_total",
            "Sightings whose routing needs a person to look (e.g. outside Xi'an).",
            ["rule"], registry=registry,
        )
        self.acknowledged = Counter(
            "exchange_dispatch_acknowledgements_total",
            "Dispatches acknowledged by the police unit, on time or late.",
            ["agency", "unit", "timeliness"], registry=registry,
        )
        self.ack_seconds = Histogram(
            "exchange_dispatch_ack_seconds",
            "Time from dispatching a sighting to the unit's acknowledgement.",
            ["kind"], registry=registry,
            buckets=(5, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200),
        )
        self.alerts = Counter(
            "exchange_alerts_issued_total",
            "Emergency alert messages sent, by CAP msgType and radius step (km).",
            ["msg_type", "radius_km"], registry=registry,
        )
        self.matches = Counter(
            "exchange_candidate_matches_total",
            "Candidate matches between a sighting and an open missing-person case, by owner.",
            ["agency"], registry=registry,
        )
        self.lookbacks = Counter(
            "exchange_case_lookbacks_total",
            "New cases compared with the sightings published since the person was last seen, "
            "by outcome: done, or failed (the earlier sightings were not compared; logged).",
            ["outcome"], registry=registry,
        )
        self.escalations = Counter(
            "exchange_dispatch_escalations_total",
            "Dispatches not acknowledged in time, escalated to the city command centre.",
            ["agency", "unit"], registry=registry,
        )


class Incoming(NamedTuple):
    """The parts of a faust event the guard needs (shaped like an aiokafka ConsumerRecord)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def incoming(event: faust.types.EventT[bytes]) -> Incoming:
    message = event.message
    raw = message.headers or []
    headers = list(raw.items()) if isinstance(raw, Mapping) else list(raw)
    return Incoming(
        message.topic, message.partition, message.offset, message.key, message.value, headers
    )


def dedupe_key(record: Incoming) -> str | None:
    """``ce_source`` + ``ce_id`` of a record; None when it lacks them (then decoding fails)."""
    headers = dict(record.headers)
    source, event_id = headers.get("ce_source"), headers.get("ce_id")
    if not source or not event_id:
        return None
    return f"{source.decode(errors='replace')}\x1f{event_id.decode(errors='replace')}"


async def publish(
    app: faust.App, topic: Any, *, key: bytes | None, value: bytes | None,
    headers: Sequence[tuple[str, bytes]] | None = None,
) -> None:
    """Send a record now, without waiting for the broker's acknowledgement.

    Not a faust attachment (``force=True``): faust flushes its producer before every offset
    commit, so an event's offset is committed only after what was sent while handling it is
    acknowledged. A record the producer gives up on (after its retries) crashes the worker, which
    resumes from the last committed offset; the replay re-sends with the same ids."""
    delivery = await topic.send(key=key, value=value, headers=list(headers or ()), force=True)
    delivery.add_done_callback(partial(_on_delivery, app))


def _on_delivery(app: faust.App, delivery: asyncio.Future[Any]) -> None:
    error = delivery.exception() if not delivery.cancelled() else asyncio.CancelledError()
    if error is not None:
        log.critical("a record was not delivered (%s): stopping the worker so that its events "
                     "are handled again after a restart", type(error).__name__)
        app.loop.create_task(app.crash(error))


class Opened(Protocol):
    @property
    def decoded(self) -> DecodedEvent: ...


class Protection(Protocol):
    """The protected mode's hooks (:class:`exchange.workflows.protection.WorkerProtection`)."""

    def attach(self, app: faust.App, context: WorkflowContext) -> None: ...
    def table(self, name: str, table: Any) -> Any: ...
    async def open(self, record: Incoming) -> Opened | None: ...
    def peek(self, record: Incoming) -> DecodedEvent | None: ...
    async def delivered(self, opened: Any, record: Incoming) -> None: ...
    async def outgoing(
        self, topic: str, key: bytes | None, value: bytes | None,
        headers: Sequence[tuple[str, bytes]] | None,
    ) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]: ...


class Dedupe(Protocol):
    """How a topic's duplicates (same ``ce_source`` + ``ce_id``) are recognised."""

    async def seen(self, key: str, record: Incoming) -> bool:
        """True when the event was handled before (its handlers are then skipped)."""

    def remember(self, key: str, record: Incoming) -> None: ...


class TableDedupe:
    """The general case: a table of the dedupe keys handled (one changelog record each)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    async def seen(self, key: str, record: Incoming) -> bool:
        return self.table.get(key) is not None

    def remember(self, key: str, record: Incoming) -> None:
        self.table[key] = str(record.offset).encode()


Handler = Callable[[DecodedEvent, Incoming], Awaitable[None]]
Workflow = Callable[[faust.App, "WorkflowContext", "Streams"], None]
"""A workflow registers its handlers on the streams, and its own tables, internal topics and
timers on the app."""


class Guard:
    """Dedupe, decode, handle, dead-letter: one event at a time, never dropping one."""

    def __init__(
        self, app: faust.App, context: WorkflowContext, dedupe: Dedupe | None = None
    ) -> None:
        self.app = app
        self.context = context
        self.dedupe = dedupe
        self.deadletter = app.topic(
            context.deadletter_topic, key_type=bytes, value_type=bytes, value_serializer="raw",
            key_serializer="raw",
        )

    async def __call__(
        self, event: faust.types.EventT[bytes], handlers: Sequence[Handler]
    ) -> None:
        """Decode the event once and give it to every handler; a record that cannot be decoded,
        or that any handler fails on, goes once to the dead-letter topic with the reason."""
        record = incoming(event)
        metrics = self.context.metrics
        protection = self.context.protection
        opened: Opened | None = None
        if protection is not None:  # verified before anything else looks at it
            try:
                opened = await protection.open(record)
            except DecodeError as error:
                await self._dead_letter(record, DeadLetter(error.reason, error))
                return
            if opened is None:
                return  # quarantined, counted and audited: never acted on
        key = dedupe_key(record)
        if key is not None and self.dedupe is not None and await self.dedupe.seen(key, record):
            metrics.duplicates.labels(record.topic).inc()
            return
        try:
            decoded = (
                opened.decoded if opened is not None
                else self.context.codec.decode(record.value, record.headers)
            )
        except DecodeError as error:
            await self._dead_letter(record, DeadLetter(error.reason, error))
            return
        failure: Exception | None = None
        for handler in handlers:
            try:
                await handler(decoded, record)
            except Exception as error:  # noqa: BLE001 - every failure is dead-lettered
                failure = failure or error
        if failure is not None:
            await self._dead_letter(record, DeadLetter("handler-error", failure))
        if key is not None and self.dedupe is not None:
            self.dedupe.remember(key, record)
        if failure is None:
            bus = metrics.bus
            bus.child(bus.consumed, record.topic, decoded.attributes.type, AGENCY).inc()
            if protection is not None:
                await protection.delivered(opened, record)

    async def raw(
        self, event: faust.types.EventT[bytes], handler: Callable[[Incoming], Awaitable[None]]
    ) -> None:
        """For the app's own internal messages (no CloudEvent to decode): handle, or
        dead-letter on failure."""
        record = incoming(event)
        try:
            await handler(record)
        except Exception as error:  # noqa: BLE001 - every failure is dead-lettered, never dropped
            await self._dead_letter(record, DeadLetter("handler-error", error))

    async def _dead_letter(self, record: Incoming, dead: DeadLetter) -> None:
        await publish(
            self.app, self.deadletter, key=record.key, value=record.value,
            headers=dead_letter_headers(record, dead, self.app.conf.id),
        )
        bus = self.context.metrics.bus
        bus.child(bus.dead_lettered, record.topic, dead.reason, AGENCY).inc()
        log.warning(
            "dead-lettered %s[%d]@%d to %s: %s (%s)", record.topic, record.partition,
            record.offset, self.context.deadletter_topic, dead.reason, type(dead.error).__name__,
        )


class Streams:
    """One agent per source topic, shared by every workflow that reads the topic.

    Workflows register handlers with :meth:`on`; :meth:`start` then defines, for each topic, a
    single agent (concurrency 1, so one partition's events are handled in order) whose
    :class:`Guard` dedupes and decodes each event once for all of them. Partition counts come
    from the topology, so a table's changelog always matches its source topic.
    """

    def __init__(self, app: faust.App, context: WorkflowContext) -> None:
        self.app = app
        self.context = context
        self._handlers: dict[str, list[Handler]] = {}
        self._dedupes: dict[str, Dedupe] = {}

    def on(self, topic: str, handler: Handler) -> None:
        self.context.topology.topic(topic)  # fails early on a topic the topology lacks
        self._handlers.setdefault(topic, []).append(handler)

    def dedupe_with(self, topic: str, dedupe: Dedupe) -> None:
        """Recognise ``topic``'s duplicates from a workflow's own table instead of a table of
        their own: saves a changelog record per event where that table already records every
        event (the sighting workflow's deadlines)."""
        self._dedupes[topic] = dedupe

    async def publish(
        self, topic: Any, *, key: bytes | None, value: bytes | None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> None:
        """:func:`publish` on this app (sealed and signed first when the worker is protected)."""
        if self.context.protection is not None:
            key, value, headers = await self.context.protection.outgoing(
                topic.get_topic_name(), key, value, headers
            )
        await publish(self.app, topic, key=key, value=value, headers=headers)

    def raw_topic(self, name: str, **options: Any) -> Any:
        """A faust topic of raw bytes (the codec does the decoding)."""
        return self.app.topic(
            name, key_type=bytes, value_type=bytes, key_serializer="raw",
            value_serializer="raw", **options,
        )

    def inboxes(self, prefix: str) -> dict[str, Any]:
        """The inbox topics whose names start with ``prefix`` (``exchange.sighting.to.``), by
        the agency each is addressed to."""
        return {
            topic.addressed_to: self.raw_topic(topic.name)
            for topic in self.context.topology.topics
            if topic.name.startswith(prefix) and topic.addressed_to
        }

    def table(self, name: str, source: str, *, global_: bool = False) -> Any:
        """A table co-partitioned with topic ``source``, string keys, byte values."""
        factory = self.app.GlobalTable if global_ else self.app.Table
        partitions = self.context.topology.topic(source).partitions
        table = factory(name, default=None, partitions=partitions, key_type=str, value_type=bytes)
        if self.context.protection is not None:  # values sealed at rest (RocksDB, changelog)
            return self.context.protection.table(name, table)
        return table

    def start(self) -> None:
        for topic, handlers in self._handlers.items():
            self._agent(topic, handlers)

    def _agent(self, topic: str, handlers: list[Handler]) -> None:
        slug = topic.removeprefix("exchange.").replace(".", "-")
        dedupe = self._dedupes.get(topic) or TableDedupe(self.table(f"{slug}-seen", topic))
        guard = Guard(self.app, self.context, dedupe)
        partitions = self.context.topology.topic(topic).partitions
        source = self.raw_topic(topic, partitions=partitions)

        async def read(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                await guard(event, handlers)

        self.app.agent(source, name=f"read-{slug}", concurrency=1)(read)


def create_app(
    kafka: KafkaSettings,
    context: WorkflowContext,
    *,
    app_id: str = "workflows.main",
    datadir: Path,
    replication_cap: int | None = None,
    workflows: Sequence[Workflow] = (),
) -> faust.App:
    """A faust app running ``workflows`` (each registers its agents on the app).

    ``datadir`` holds the worker's table state (RocksDB); one per worker process.
    """
    if not app_id.startswith(f"{AGENCY}."):
        raise ValueError(f"app id {app_id!r} must start with '{AGENCY}.' (its ACL prefix)")
    replication = max(
        t.effective_replication(replication_cap) for t in context.topology.topics
        if AGENCY in t.readers or AGENCY in t.writers
    )
    datadir.mkdir(parents=True, exist_ok=True)
    credentials: faust.SASLCredentials | faust.SSLCredentials | None = None
    if kafka.uses_sasl:
        connection = kafka.aiokafka_kwargs()
        credentials = faust.SASLCredentials(
            username=connection["sasl_plain_username"],
            password=connection["sasl_plain_password"],
            mechanism=kafka.sasl_mechanism,
            ssl_context=connection.get("ssl_context"),
        )
    elif kafka.uses_tls:
        credentials = faust.SSLCredentials(kafka.ssl_context())
    app = faust.App(
        app_id,
        broker=";".join(f"kafka://{hp}" for hp in kafka.bootstrap_servers.split(",")),
        broker_credentials=credentials,
        topic_replication_factor=replication,
        topic_partitions=3,
        # RocksDB keeps table state on disk next to the changelog offsets it reflects, so a
        # restarted worker reads only the changelog tail instead of replaying it all.
        store="rocksdb://",
        datadir=str(datadir),
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        # Records wait up to 5 ms to share a produce request: far fewer, larger requests for the
        # CPU-bound worker (aiokafka's default, 0, sent a request per record or two).
        producer_linger=0.005,
        producer_max_batch_size=262_144,
        broker_commit_every=1000,  # and at least every broker_commit_interval
        broker_commit_interval=0.5,
        stream_wait_empty=False,
        worker_redirect_stdouts=False,
    )
    app.producer.buffer.max_messages = PRODUCER_BUFFER
    if context.protection is not None:
        context.protection.attach(app, context)
    streams = Streams(app, context)
    for register in workflows:
        register(app, context, streams)
    streams.start()
    positions.install(app, context.metrics.rewinds, compacted=frozenset(
        t.name for t in context.topology.topics if t.cleanup_policy == "compact"
    ))
    return app

