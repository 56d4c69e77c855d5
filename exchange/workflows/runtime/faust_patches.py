"""Every use of faust-streaming's and aiokafka's private internals, in one module that refuses
to load on versions it was not proven with (:data:`PROVEN_WITH`).

What is patched, and why:

- the consumer's read positions (:class:`RewindingConsumer`, :class:`PositionWatch`): no record
  is skipped after a restart or a rebalance (below);
- the consumer's fetch wait (:data:`FETCH_WAIT_MS`), for latency;
- the transport's topic creation (:func:`patient_topic_creation`): a worker starting or
  rebalancing while a broker is down retries instead of exiting;
- the consumer's commit (:meth:`_FetchingThread._commit`) and the position watch: neither
  crashes the worker when a rebalance takes its partitions away mid-call (faust-streaming
  issue 94: faust commits what it filtered against the assignment it saw before the call, and
  aiokafka refuses a commit with no partitions assigned; faust then crashes);
- the current event of a batch (:func:`make_current`): a batched agent's table writes go
  to the partition of the event they are made for;
- the producer's buffer (:func:`tune_producer`) and the worker's root logger
  (:class:`QuietWorker`), for throughput;
- the producer's idempotence (:func:`tune_producer`): faust makes its aiokafka producer
  idempotent only in ``exactly_once`` mode; the worker's producer is made idempotent with
  ``acks=all`` always, so a send that aiokafka retries after a lost acknowledgement is written
  once. Its audit records go through it (a retried audit record written twice would look like a
  fork of the chain) and so do its outputs.

``tests/workflows/runtime/test_faust_patches.py`` checks that each private name used here
(:data:`PRIVATE_NAMES`) still exists in the installed packages.

**Read positions.**

faust-streaming 0.15.3 can move the Kafka consumer's position past records it never hands to
an agent. Seen against the real broker (``tests/workflows/test_worker_faults.py``), about one
restart in three after a SIGKILL:

- **Nothing committed yet.** The new worker fetches while its recovery runs, drops what it
  fetched, and "seeks to the committed offsets", which aiokafka skips for a partition with no
  committed offset (or offset 0). The position stays at the end of the partition: every
  record before it is never processed, and the worker looks healthy.
- **A hole.** A fetched batch (8 records in each partition) is dropped after recovery; the
  records after it are processed, so the commit stops at the hole and the hole's records are
  never processed.
- **A skip.** When faust sees a partition's offsets jump (the records in between dropped), it
  records a "gap" that its commit may pass, meant for compacted topics: records in it not
  handled before are then lost silently, the commit moving on as if they had been handled
  (inferred from faust's code and a clean-clone CI run in which 27 sightings never came while
  no commit was stuck).

- **A lone record committed past.** A seek (a rebalance's, or the watch's below) while the
  fetcher still hands out records of an earlier fetch: the next stale record sets faust's read
  offset past the seek's target, so the record at the target, fetched again, is dropped as
  already read, and the records after it are handled. faust's commit stops at a hole at the
  head of the acked records only when it is two records long or more (``min(acked) -
  committed > 1``, with ``committed`` the next offset to read): a lone dropped record was
  committed past (the one sighting in 10,752 the nemesis lost, at the end of a rebalance).

Five repairs, all within faust's own machinery:

- :class:`RewindingConsumer` rewinds, after faust's seek to the committed offsets, each
  partition that has no committed offset to its beginning: what ``auto_offset_reset=earliest``
  promised, made true even when records were fetched early.
- The same consumer records no gap on a topic that is not compacted, and does not hand out a
  record after a jump (:meth:`RewindingConsumer.getmany`): it seeks the partition back to the
  first record jumped over, so the records in between are handled first and a partition's
  records keep their order (handled after the later ones, a case's closing report came before
  its opening one).
- The same consumer commits a source partition only over acked records starting exactly at
  its committed offset (:meth:`RewindingConsumer._new_offset`), and takes no acknowledgement
  for a record fetched before the current rebalance generation (:meth:`RewindingConsumer.ack`:
  faust's stream acks such a record while it skips it, unhandled).
- :class:`PositionWatch` checks every few seconds that each assigned source partition's commit
  keeps up with its consumer position. A partition whose position stays ahead of a commit
  that did not move between two looks lost records (dropped, or left "in flight" by a
  rebalance and never handled: seen in the two-worker takeover test). It is sought back to
  the commit, counted in ``exchange_workflow_rewinds_total`` and logged. The records are read
  again; those already handled are recognised as duplicates (``ce_source`` + ``ce_id``), so
  none is lost and none repeated. A handler merely slow for that long (the workflows' are
  fast; the broker down) costs re-reading a few records, which the dedupe absorbs. A worker
  that *holds* on purpose (the fail-closed audit policy: ``holding``) has read a record it
  will handle later: the watch stands down meanwhile, or it would seek back every few seconds
  and the records handled before the hold would be read, and their outputs sent, again.

The same consumer also shortens faust's fetch wait (:data:`FETCH_WAIT_MS`): not about
positions, about latency, but it lives where faust's consumer is replaced.

"""

from __future__ import annotations

import asyncio
import inspect
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from typing import Any

import aiokafka
import faust
from faust import streams as faust_streams
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.worker import Worker
from prometheus_client import Counter

from exchange.workflows.exceptions import UnsupportedRuntimeError

log = logging.getLogger(__name__)

PROVEN_WITH = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0"}
"""The versions whose internals this module was written and fault-tested against."""

PRIVATE_NAMES: tuple[tuple[Any, str], ...] = (
    (faust_aiokafka.AIOKafkaConsumerThread, "_create_worker_consumer"),
    (faust_aiokafka.Consumer, "_new_consumer_thread"),
    (faust_aiokafka.Consumer, "_add_gap"),
    (faust_aiokafka.Consumer, "_is_changelog_tp"),
    (faust_aiokafka.Consumer, "_committed_offset"),  # set in __init__
    (faust_aiokafka.Consumer, "_acked"),  # set in __init__
    (faust_aiokafka.Consumer, "_read_offset"),  # set in __init__
    (faust_aiokafka.Consumer, "_new_offset"),
    (faust_aiokafka.Consumer, "_unacked_messages"),  # set in __init__
    (aiokafka.AIOKafkaConsumer, "_fetch_max_wait_ms"),  # set in __init__
    (faust_streams, "_current_event"),
    (faust_aiokafka.Producer, "_settings_extra"),
    (faust_aiokafka.Transport, "_create_topic"),
    (faust.transport.conductor.Conductor, "_tp_index"),  # set in __init__
)


def _check_versions() -> None:
    for package, proven in PROVEN_WITH.items():
        installed = metadata.version(package)
        if installed != proven:
            raise UnsupportedRuntimeError(package, installed, proven)


def missing_private_names() -> list[str]:
    """The private names of :data:`PRIVATE_NAMES` that the installed packages lack (an
    attribute set in ``__init__`` is looked for in its source)."""
    missing = []
    for owner, name in PRIVATE_NAMES:
        if hasattr(owner, name):
            continue
        source = "".join(inspect.getsource(klass) for klass in inspect.getmro(owner)
                         if klass.__module__.split(".")[0] in ("faust", "aiokafka", "mode"))
        if f"self.{name} " not in source and f"self.{name}:" not in source:
            missing.append(f"{owner.__module__}.{owner.__qualname__}.{name}")
    return missing


_check_versions()

def make_current(event: faust.types.EventT[Any]) -> None:
    """Make ``event`` faust's current event in this task: a table write then goes to the
    changelog and store partition of ``event``'s partition. ``stream.take_events`` reads in a
    task of its own, so a batched agent sets each event itself before it acts for it."""
    faust_streams._current_event.set(weakref.ref(event))


PRODUCER_BUFFER = 10_000
"""Table changelog records faust may hold before it pauses the streams to drain them (faust's
default, 100, paused every sighting's stream in 0.1 s steps under load)."""


IDEMPOTENT = {"acks": "all", "enable_idempotence": True}
"""What faust gives its producer only in a transaction; the worker's producer always has it."""


def tune_producer(app: faust.App) -> None:
    """A larger buffer (:data:`PRODUCER_BUFFER`), and an idempotent producer (:data:`IDEMPOTENT`,
    added to what faust's ``_settings_extra`` gives the aiokafka producer it creates)."""
    producer: Any = app.producer
    producer.buffer.max_messages = PRODUCER_BUFFER
    extra = producer._settings_extra

    def idempotent() -> dict[str, Any]:
        return {**extra(), **IDEMPOTENT}

    producer._settings_extra = idempotent


class QuietWorker(Worker):
    """faust's worker without its terminal spinner.

    To turn the spinner on every log record, faust sets the root logger to DEBUG when the log
    level is WARN or above; every ``logger.debug`` on the per-event path (faust publishes one
    per message sent) then builds a record: measured at ~60 us each, a third of a worker's
    time. No spinner, and the root logger keeps the level asked for.
    """

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        self.spinner = None

CHECK_EVERY_S = 5.0
"""How often :class:`PositionWatch` looks; a lost record waits at most about twice this."""

JUMPS_BEFORE_YIELDING = 3
"""Seeks back to one target after a jump (:meth:`RewindingConsumer.getmany`) before the
records after the jump are let through: the records in between may be gone (retention)."""


FETCH_WAIT_MS = 100
"""How long the broker may hold the worker's fetch request when none of its partitions has new
records. faust 0.15 fixes it at 1,500 ms, and a fetch leaves out the partitions whose records
are still buffered: a sighting arriving on such a partition waited for the long poll on the
other, idle partitions to time out. At 200 sightings/s that made the sighting -> inbox latency
~1.1 s p50 and 1.7 s p99 with the worker 70% idle; at 100 ms it was 28 ms p50 and 55 ms p99
(fresh broker each, BENCHMARKS.md "Issue #3: sighting workflow"). An idle worker then sends
about ten small fetches a second."""


class _FetchingThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_WAIT_MS  # read when the consumer starts its fetcher
        return consumer

    async def _commit(self, offsets: Any) -> bool:
        """No commit while a rebalance holds no partitions: aiokafka refuses it
        (``IllegalStateError: No partitions assigned``) and faust crashes the worker on the
        refusal. Nothing is committed instead; the offsets are committed after the rebalance
        by whichever worker then holds the partitions (or read again: at-least-once). faust
        filters the offsets against the assignment again in the same step as aiokafka's check,
        so a partition taken away is left out, not refused."""
        if not self._ensure_consumer().assignment():
            log.info("no commit of %d partitions: the group is rebalancing", len(offsets))
            return False
        committed: bool = await super()._commit(offsets)
        return committed


class RewindingConsumer(faust_aiokafka.Consumer):
    """faust's aiokafka consumer whose seek to the committed offsets also rewinds partitions
    that have none (aiokafka leaves them wherever the early fetches moved them), and which
    never lets the commit jump over records it skipped on a topic that is not compacted."""

    compacted: frozenset[str] = frozenset()
    heads: dict[Any, int]  # source partitions with nothing committed: their first offset

    unfinished: set[Any]
    """Messages of a batch whose handling has not returned (see :func:`handling`)."""

    jumps: dict[tuple[Any, int], int]
    """How often each (partition, target) was sought back to after a jump."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heads = {}
        self.unfinished = set()
        self.jumps = {}

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _FetchingThread(self, loop=self.loop, beacon=self.beacon)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:  # noqa: ASYNC109 - faust's signature
        """faust's fetch, except that a record after a jump in its partition's offsets is not
        handed out ("a jump", above): the partition is sought back to the first record it
        jumped over (or its commit, if lower) and the rest of its fetched records dropped, so
        the records in between are handled first, in the partition's order. Handing them out
        after it (faust), the position watch's seek-back later brought the skipped records in
        behind later ones: a case's closing report handled before the report that opened it,
        whose alert was then never cancelled (the nemesis's checker found it).

        A jump that comes back :data:`JUMPS_BEFORE_YIELDING` times to the same target (the
        records in between deleted by retention, say) is let through, as faust does."""
        rewound: set[Any] = set()
        async for tp, message in super().getmany(timeout):
            if tp in rewound:
                continue
            target = self._jump_target(tp, message.offset)
            if target is None:
                yield tp, message
                continue
            rewound.add(tp)
            log.warning(
                "%s[%d]: the consumer jumped to offset %d over records never handled; "
                "seeking back to %d to handle them first, in order",
                tp.topic, tp.partition, message.offset, target,
            )
            await self.seek(tp, target)

    def _jump_target(self, tp: Any, offset: int) -> int | None:
        """Where to seek ``tp`` back to when ``offset`` jumps over records (faust's own test:
        more than one past its read offset) on a source topic that is not compacted."""
        read = self._read_offset.get(tp)
        if read is None or offset - read <= 1 or tp.topic in self.compacted:
            return None
        if not _is_source(self, tp) or not self.app.topics.acks_enabled_for(tp.topic):
            return None
        committed = self._committed_offset.get(tp)
        target = read + 1 if committed is None else min(read + 1, committed)
        seen = self.jumps.get((tp, target), 0) + 1
        self.jumps[(tp, target)] = seen
        return target if seen <= JUMPS_BEFORE_YIELDING else None

    async def _add_gap(self, tp: Any, offset_from: int, offset_to: int) -> None:
        """faust records a jump in a partition's offsets as a gap the commit may pass: right
        for a compacted topic, but on the others (no transactions on this bus: no control
        records) the offsets in between are records faust dropped. Without the gap the commit
        stops before them, and :class:`PositionWatch` reads them again."""
        if tp.topic in self.compacted:
            await super()._add_gap(tp, offset_from, offset_to)
            return
        log.warning(
            "%s[%d]: the consumer jumped over offsets %d..%d; any of them not handled before "
            "holds the commit back until the position watch reads them again",
            tp.topic, tp.partition, offset_from, offset_to - 1,
        )

    async def seek_to_committed(self) -> Any:
        committed = await super().seek_to_committed()
        uncommitted = [tp for tp in self.assignment()
                       if _is_source(self, tp) and not committed.get(tp)]
        for tp in uncommitted:
            log.debug("%s[%d]: nothing committed, reading from the beginning", *tp)
            await self.seek(tp, 0)  # out of range (retention) resets to earliest
        for tp in committed:
            self.heads.pop(tp, None)
        if uncommitted:
            try:
                self.heads.update(await self.earliest_offsets(*uncommitted))
            except aiokafka.errors.KafkaError as error:  # the commit then follows faust's rule
                log.warning("the first offsets of %d partitions with nothing committed are "
                            "unknown (%r)", len(uncommitted), error)
        return committed

    def ack(self, message: Any) -> bool:
        """No acknowledgement for a message fetched before the current rebalance generation,
        nor for one of a batch whose handling never returned (:func:`handling`).

        faust's stream skips such a message (it is not handled) and acks it all the same
        ("otherwise the lag would increase"); a batch still being handled when the rebalance
        came acks its messages afterwards. On a partition this worker keeps, those offsets then
        count as handled. Here the message is settled (it no longer holds a stop or a commit
        up) without its offset becoming committable: the commit stops before it and the
        position watch reads it again; a message handled already comes again as a duplicate."""
        if message.generation_id != self.app.consumer_generation_id or message in self.unfinished:
            message.acked = True
            self._unacked_messages.discard(message)
            return False
        acked: bool = super().ack(message)
        return acked

    def _new_offset(self, tp: Any) -> int | None:
        """No commit past a record never acked at the head of a source partition ("a lone
        record committed past", above): on a topic that is not compacted (no transactions on
        this bus: every offset is a record) the commit waits for the record at the committed
        offset (or at the beginning, when nothing is committed), which :class:`PositionWatch`
        has read again. Compacted topics keep faust's rule."""
        acked = self._acked[tp]
        if acked and tp.topic not in self.compacted and _is_source(self, tp):
            head = self._committed_offset[tp]
            if head is None:
                head = self.heads.get(tp)
            if head is not None and min(acked) > head:
                return None
        offset: int | None = super()._new_offset(tp)
        return offset


@contextmanager
def handling(app: faust.App, events: Sequence[faust.types.EventT[Any]]) -> Iterator[None]:
    """Hold ``events`` (a batch from ``take_events``, or one event) uncommittable until the
    block returns.

    ``take_events`` acks a batch's events in a ``finally``, and faust's per-event iterator the
    event it handed out: a batch or event whose handling is cancelled (SIGTERM while it sends)
    would be acked, and faust's commit on stop would count it as handled, outputs unsent. Its
    messages stay in :attr:`RewindingConsumer.unfinished` unless the block returns, so their
    acknowledgement settles them without making them committable: the next worker reads them
    again and the dedupe absorbs what was already sent."""
    consumer = app.consumer
    unfinished: set[Any] | None = getattr(consumer, "unfinished", None)
    if unfinished is None:  # not the worker's consumer (a test double)
        yield
        return
    messages = [event.message for event in events]
    unfinished.update(messages)
    yield  # an exception (the cancellation) leaves them unfinished
    unfinished.difference_update(messages)


def _is_source(consumer: Any, tp: Any) -> bool:
    """A partition an agent reads (not a table's changelog, not faust's leader topic)."""
    return not consumer._is_changelog_tp(tp) and not tp.topic.endswith("__assignor-__leader")


class PositionWatch:
    """Finds source partitions whose consumer position ran ahead of what was handled, and
    seeks them back to their committed offset."""

    def __init__(
        self, app: faust.App, rewinds: Counter, *, skip: frozenset[str],
        holding: Callable[[], bool] = lambda: False,
    ) -> None:
        self.app = app
        self.rewinds = rewinds
        self.skip = skip  # compacted topics: their commit may rightly stop short of the end
        self.holding = holding
        self.suspects: dict[Any, int | None] = {}  # partition -> committed offset when seen

    async def check(self) -> list[Any]:
        """One look; returns the partitions it sought back."""
        app = self.app
        consumer: Any = app.consumer
        if app.rebalancing or not consumer.flow_active or self.holding():
            self.suspects.clear()
            return []
        try:
            return await self._look(consumer)
        except aiokafka.errors.IllegalStateError as error:  # a rebalance took a partition
            log.info("position watch: a look interrupted by a rebalance (%s)", error)
            self.suspects.clear()
            return []

    async def _look(self, consumer: Any) -> list[Any]:
        suspects: dict[Any, int | None] = {}
        rewound = []
        for tp in sorted(consumer.assignment()):
            if not _is_source(consumer, tp) or tp.topic in self.skip:
                continue
            committed = consumer._committed_offset.get(tp)
            position = await consumer.position(tp)
            if position is None or position <= (committed or 0):
                continue
            if _on_its_way(self.app, tp):
                continue  # read, queued for its agent: slow, not lost
            if tp in self.suspects and self.suspects[tp] == committed:
                target = committed or 0
                log.warning(
                    "%s[%d]: position %d is ahead of a commit that has not moved from %d for "
                    "%.0f s; records were read but not handled. Seeking back to %d "
                    "(handled records come again and are recognised as duplicates).",
                    tp.topic,
                    tp.partition,
                    position,
                    target,
                    CHECK_EVERY_S,
                    target,
                )
                await consumer.seek(tp, target)
                self.rewinds.labels(tp.topic).inc()
                rewound.append(tp)
            else:
                suspects[tp] = committed
        self.suspects = suspects
        return rewound


def _on_its_way(app: faust.App, tp: Any) -> bool:
    """Records of ``tp`` read in this rebalance generation wait in its agent's queue, or any
    queue of ``tp``'s agents is full (faust's conductor then waits to hand over what it read):
    the agent is behind, and seeking back would only read the queued records once more."""
    generation = app.consumer_generation_id
    for channel in app.topics._tp_index.get(tp, ()):  # type: ignore[attr-defined]
        queue = channel.queue
        if queue.full():
            return True
        for event in list(queue._queue):
            message = event.message
            if message.tp == tp and message.generation_id == generation:
                return True
    return False


CREATE_TOPIC_PATIENCE_S = 120.0
"""How long a worker keeps asking for its internal topics while the cluster cannot answer (a
broker killed, restarting, or paused past its session): longer than a broker's restart."""


def _transient(error: BaseException) -> bool:
    if isinstance(error, aiokafka.errors.KafkaError):
        return bool(getattr(error, "retriable", False)) or isinstance(
            error, aiokafka.errors.KafkaConnectionError
        )
    # faust's own words when it cannot find the controller (a broker is down)
    return type(error) is Exception and "Controller node" in str(error)


def patient_topic_creation(app: faust.App) -> None:
    """faust declares its internal topics (changelogs, its leader topic) at start and on
    rebalances, sending CreateTopics to the controller; when that node is down the request
    fails with NodeNotReadyError and the worker exits (seen in the nemesis run: a worker
    starting while the leader of a partition was killed). Retry transient errors instead, for
    up to :data:`CREATE_TOPIC_PATIENCE_S`."""
    transport: Any = app.transport
    create = transport._create_topic

    async def _create_topic(*args: Any, **kwargs: Any) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CREATE_TOPIC_PATIENCE_S
        delay = 0.5
        while True:
            try:
                await create(*args, **kwargs)
            except Exception as error:
                if not _transient(error) or loop.time() > deadline:
                    raise
                log.warning("creating an internal topic failed (%r); again in %.1f s",
                            error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                return

    transport._create_topic = _create_topic


def install(
    app: faust.App, rewinds: Counter, *, compacted: frozenset[str],
    holding: Callable[[], bool] = lambda: False,
) -> PositionWatch:
    """Use :class:`RewindingConsumer` and run a :class:`PositionWatch` on ``app`` (not on the
    ``compacted`` topics, where compaction may rightly leave the commit short of the end; not
    while ``holding()``: the worker holds its input on purpose)."""
    consumer = type("RewindingConsumer", (RewindingConsumer,), {"compacted": compacted})
    app.transport.Consumer = consumer  # type: ignore[misc]
    patient_topic_creation(app)
    watch = PositionWatch(app, rewinds, skip=compacted, holding=holding)

    async def check_positions(*_: object) -> None:
        await watch.check()

    app.timer(interval=CHECK_EVERY_S, name="position-watch")(check_positions)
    return watch
