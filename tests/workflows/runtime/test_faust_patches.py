"""PositionWatch's decisions, on a stand-in for faust's consumer (the broker-facing behaviour
is proven by tests/workflows/test_worker_faults.py against the real broker)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import aiokafka
import pytest
from prometheus_client import CollectorRegistry, Counter

from exchange.workflows.runtime.faust_patches import PositionWatch


class TP(NamedTuple):
    topic: str
    partition: int


@dataclass(frozen=True)
class Message:
    tp: TP
    generation_id: int = 1


@dataclass(frozen=True)
class Event:
    message: Message


@dataclass(eq=False)
class Channel:
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(maxsize=3))


@dataclass
class StandInConductor:
    _tp_index: dict[TP, set[Any]] = field(default_factory=dict)


@dataclass
class StandInConsumer:
    positions: dict[TP, int]
    _committed_offset: dict[TP, int | None]
    _unacked_messages: set[Any] = field(default_factory=set)
    flow_active: bool = True
    sought: list[tuple[TP, int]] = field(default_factory=list)

    def assignment(self) -> set[TP]:
        return set(self.positions)

    def _is_changelog_tp(self, tp: TP) -> bool:
        return tp.topic.endswith("-changelog")

    async def position(self, tp: TP) -> int:
        if tp not in self.positions:  # what aiokafka says of a partition a rebalance took
            raise aiokafka.errors.IllegalStateError(f"Partition {tp} is not assigned")
        return self.positions[tp]

    async def seek(self, tp: TP, offset: int) -> None:
        self.sought.append((tp, offset))
        self.positions[tp] = offset


@dataclass
class StandInApp:
    consumer: StandInConsumer
    rebalancing: bool = False
    topics: StandInConductor = field(default_factory=StandInConductor)
    consumer_generation_id: int = 1


SIGHTING = TP("exchange.sighting", 1)
CHANGELOG = TP("workflows.main-sightings-deadlines-changelog", 1)
BOARD = TP("exchange.referral-board", 0)


def watch(consumer: StandInConsumer) -> tuple[PositionWatch, Counter]:
    rewinds = Counter("rewinds", "", ["topic"], registry=CollectorRegistry())
    app: Any = StandInApp(consumer)
    return PositionWatch(app, rewinds, skip=frozenset({BOARD.topic})), rewinds


async def test_ahead_of_its_commit_twice_with_nothing_in_flight_is_sought_back() -> None:
    consumer = StandInConsumer({SIGHTING: 129, CHANGELOG: 70}, {SIGHTING: 38, CHANGELOG: None})
    positions, rewinds = watch(consumer)
    assert await positions.check() == []  # first look: only a suspect (a commit may be due)
    assert await positions.check() == [SIGHTING]
    assert consumer.sought == [(SIGHTING, 38)]
    assert rewinds.labels(SIGHTING.topic)._value.get() == 1


async def test_nothing_ever_committed_is_sought_back_to_the_beginning() -> None:
    consumer = StandInConsumer({SIGHTING: 126}, {})
    positions, _ = watch(consumer)
    await positions.check()
    assert await positions.check() == [SIGHTING]
    assert consumer.sought == [(SIGHTING, 0)]


async def test_a_moving_commit_is_left_alone() -> None:
    consumer = StandInConsumer({SIGHTING: 129}, {SIGHTING: 38})
    positions, _ = watch(consumer)
    await positions.check()
    consumer._committed_offset[SIGHTING] = 90  # records are being handled
    assert await positions.check() == []
    consumer._committed_offset[SIGHTING] = 129  # caught up
    assert await positions.check() == []
    assert await positions.check() == []
    assert consumer.sought == []


async def test_a_record_left_in_flight_with_a_stuck_commit_is_sought_back() -> None:
    consumer = StandInConsumer({SIGHTING: 60}, {SIGHTING: 41}, {Message(SIGHTING)})
    positions, _ = watch(consumer)
    await positions.check()
    assert await positions.check() == [SIGHTING]
    assert consumer.sought == [(SIGHTING, 41)]


async def test_records_queued_for_a_busy_agent_are_not_sought_back() -> None:
    """The soak's ticks: an agent far behind holds a partition's records in its queue, or
    faust's conductor waits on a full queue. Seeking back then only reads them once more."""
    consumer = StandInConsumer({SIGHTING: 900}, {SIGHTING: 400})
    positions, _ = watch(consumer)
    channel = Channel()
    positions.app.topics._tp_index[SIGHTING] = {channel}
    channel.queue.put_nowait(Event(Message(SIGHTING)))
    for _ in range(3):
        assert await positions.check() == []
    other = TP(SIGHTING.topic, 2)
    channel.queue.get_nowait()
    for _ in range(3):  # full, with another partition's records: the conductor waits
        channel.queue.put_nowait(Event(Message(other)))
    for _ in range(3):
        assert await positions.check() == []
    assert consumer.sought == []


async def test_records_queued_before_the_rebalance_do_not_hold_the_watch_off() -> None:
    consumer = StandInConsumer({SIGHTING: 900}, {SIGHTING: 400})
    positions, _ = watch(consumer)
    channel = Channel()
    positions.app.topics._tp_index[SIGHTING] = {channel}
    channel.queue.put_nowait(Event(Message(SIGHTING, generation_id=0)))  # skipped, never acked
    await positions.check()
    assert await positions.check() == [SIGHTING]
    assert consumer.sought == [(SIGHTING, 400)]


async def test_changelogs_compacted_topics_and_rebalances_are_not_watched() -> None:
    consumer = StandInConsumer({CHANGELOG: 50, BOARD: 9}, {CHANGELOG: 10, BOARD: 3})
    positions, _ = watch(consumer)
    for _ in range(3):
        assert await positions.check() == []
    consumer.positions[SIGHTING] = 20
    consumer._committed_offset[SIGHTING] = 5
    await positions.check()
    positions.app.rebalancing = True  # a rebalance forgets the suspects
    assert await positions.check() == []
    positions.app.rebalancing = False
    assert await positions.check() == []
    assert consumer.sought == []


async def test_a_rebalance_taking_a_partition_mid_look_is_not_a_crash() -> None:
    consumer = StandInConsumer({SIGHTING: 129}, {SIGHTING: 38})
    positions, _ = watch(consumer)
    await positions.check()
    taken = dict(consumer.positions)
    consumer.assignment = lambda: set(taken)  # type: ignore[method-assign]  # seen before...
    del consumer.positions[SIGHTING]  # ...the rebalance took it
    assert await positions.check() == []
    assert positions.suspects == {}
    assert consumer.sought == []


async def test_no_commit_while_no_partition_is_assigned_and_no_crash(tmp_path: Any) -> None:
    """faust-streaming issue 94: faust filters its offsets against the assignment it saw, a
    rebalance empties aiokafka's meanwhile, aiokafka refuses the commit (IllegalStateError) and
    faust crashed the worker on it. Now: nothing committed, nothing crashed."""
    import faust  # noqa: PLC0415 - only these tests build an app

    from exchange.workflows.runtime import faust_patches  # noqa: PLC0415

    app = faust.App(
        "workflows.test-commit", broker="kafka://127.0.0.1:9", datadir=str(tmp_path),
        loop=asyncio.get_running_loop(),
    )
    faust_patches.install(app, Counter("rewinds", "", ["topic"], registry=CollectorRegistry()),
                          compacted=frozenset())
    thread = app.consumer._thread  # type: ignore[attr-defined]
    consumer = thread._create_worker_consumer(app.transport)
    consumer.subscribe(topics=["exchange.sighting"])  # subscribed, nothing assigned: rebalancing
    thread._consumer = consumer
    try:
        assert await thread._commit({TP("exchange.sighting", 1): 41}) is False
        assert thread.crash_reason is None
    finally:
        await consumer.stop()
        thread.thread_loop.close()


async def test_the_worker_consumer_fetches_with_a_short_wait(tmp_path: Any) -> None:
    """faust fixes the fetch wait at 1.5 s, which held sightings back by ~1 s (see
    FETCH_WAIT_MS); the consumer installed by ``install`` asks the broker for 100 ms."""
    import faust  # noqa: PLC0415 - only this test builds an app

    from exchange.workflows.runtime import faust_patches as positions  # noqa: PLC0415

    app = faust.App(
        "workflows.test-fetch", broker="kafka://127.0.0.1:9", datadir=str(tmp_path),
        loop=asyncio.get_running_loop(),
    )
    rewinds = Counter("rewinds", "", ["topic"], registry=CollectorRegistry())
    positions.install(app, rewinds, compacted=frozenset())
    thread = app.consumer._thread  # type: ignore[attr-defined]  # made with the consumer
    consumer = thread._create_worker_consumer(app.transport)
    try:
        assert consumer._fetch_max_wait_ms == positions.FETCH_WAIT_MS == 100
    finally:
        await consumer.stop()
        thread.thread_loop.close()


async def test_no_commit_passes_a_single_record_never_acked(tmp_path: Any) -> None:
    """faust's commit passed a lone record at the head of a partition that was never acked
    (committed 40, acked 41 and 42: it committed 43): the sighting the nemesis lost. The
    worker's consumer waits for it; a compacted topic keeps faust's behaviour."""
    import faust  # noqa: PLC0415 - only this test builds an app

    from exchange.workflows.runtime import faust_patches  # noqa: PLC0415

    app = faust.App(
        "workflows.test-commit", broker="kafka://127.0.0.1:9", datadir=str(tmp_path),
        loop=asyncio.get_running_loop(),
    )
    rewinds = Counter("rewinds", "", ["topic"], registry=CollectorRegistry())
    faust_patches.install(app, rewinds, compacted=frozenset({BOARD.topic}))
    consumer: Any = app.consumer
    try:
        assert isinstance(consumer, faust_patches.RewindingConsumer)
        faust_consumer: Any = faust.transport.drivers.aiokafka.Consumer
        for tp in (SIGHTING, BOARD):
            consumer._committed_offset[tp] = 40
            consumer._acked[tp].extend([41, 42])
        assert faust_consumer._new_offset(consumer, SIGHTING) == 43  # faust's own: 40 is lost
        consumer._acked[SIGHTING][:] = [41, 42]
        assert consumer._filter_committable_offsets([SIGHTING, BOARD]) == {BOARD: 43}

        consumer._acked[SIGHTING].append(40)  # read again (the position watch) and handled
        assert consumer._filter_committable_offsets([SIGHTING]) == {SIGHTING: 43}

        first = TP("exchange.sighting", 2)  # nothing committed: the head is the beginning
        consumer.heads[first] = 0
        consumer._acked[first].extend([1, 2])
        assert consumer._filter_committable_offsets([first]) == {}
        consumer._acked[first].append(0)
        assert consumer._filter_committable_offsets([first]) == {first: 3}
    finally:
        consumer._thread.thread_loop.close()  # made with the consumer


async def test_a_message_from_before_a_rebalance_is_settled_but_not_committable(
    tmp_path: Any,
) -> None:
    """faust's stream skips a message fetched before the current rebalance generation and acks
    it unhandled; its offset must not count as handled."""
    import faust  # noqa: PLC0415 - only this test builds an app
    from faust.types.tuples import ConsumerMessage  # noqa: PLC0415

    from exchange.workflows.runtime import faust_patches  # noqa: PLC0415

    app = faust.App(
        "workflows.test-generation", broker="kafka://127.0.0.1:9", datadir=str(tmp_path),
        loop=asyncio.get_running_loop(),
    )
    rewinds = Counter("rewinds", "", ["topic"], registry=CollectorRegistry())
    faust_patches.install(app, rewinds, compacted=frozenset())
    app.topics.acking_topics.add(SIGHTING.topic)  # as the conductor marks an agent's topic
    consumer: Any = app.consumer
    try:
        app.consumer_generation_id = 7

        def message(offset: int, generation: int) -> Any:
            return ConsumerMessage(SIGHTING.topic, SIGHTING.partition, offset, 0.0, 0, [],
                                   b"k", b"v", None, tp=SIGHTING, generation_id=generation)

        consumer._committed_offset[SIGHTING] = 40
        stale, current = message(40, 6), message(41, 7)
        consumer._unacked_messages.update({stale, current})
        assert stale.ack(consumer) is False  # settled ...
        assert stale.acked
        assert stale not in consumer._unacked_messages
        assert current.ack(consumer) is True
        assert list(consumer._acked[SIGHTING]) == [41]  # ... but not committable
        assert consumer._filter_committable_offsets([SIGHTING]) == {}
    finally:
        consumer._thread.thread_loop.close()  # made with the consumer


async def test_a_batch_cancelled_mid_handling_is_settled_but_not_committable(
    tmp_path: Any,
) -> None:
    """take_events acks a batch in a finally, so a batch whose handling was cancelled (SIGTERM
    while it sends) is acked: under ``handling`` its offsets must not become committable; a
    batch handled to the end is committed as usual."""
    import faust  # noqa: PLC0415 - only this test builds an app
    from faust.types.tuples import ConsumerMessage  # noqa: PLC0415

    from exchange.workflows.runtime import faust_patches  # noqa: PLC0415

    app = faust.App(
        "workflows.test-cancelled", broker="kafka://127.0.0.1:9", datadir=str(tmp_path),
        loop=asyncio.get_running_loop(),
    )
    rewinds = Counter("rewinds", "", ["topic"], registry=CollectorRegistry())
    faust_patches.install(app, rewinds, compacted=frozenset())
    app.topics.acking_topics.add(SIGHTING.topic)
    consumer: Any = app.consumer
    try:
        app.consumer_generation_id = 3

        @dataclass
        class Event:
            message: Any

        def batch(*offsets: int) -> list[Event]:
            return [Event(ConsumerMessage(SIGHTING.topic, SIGHTING.partition, o, 0.0, 0, [],
                                          b"k", b"v", None, tp=SIGHTING, generation_id=3))
                    for o in offsets]  # fmt: skip

        consumer._committed_offset[SIGHTING] = 40
        done, cancelled = batch(40, 41), batch(42, 43)
        with faust_patches.handling(app, done):
            pass
        with pytest.raises(asyncio.CancelledError), faust_patches.handling(app, cancelled):
            raise asyncio.CancelledError  # the worker stopped while the batch was sent
        for event in done + cancelled:  # take_events' finally acks them all
            consumer._unacked_messages.add(event.message)
            event.message.ack(consumer)
        assert all(e.message.acked for e in done + cancelled)  # settled: no stop waits on them
        assert not consumer._unacked_messages
        assert sorted(consumer._acked[SIGHTING]) == [40, 41]
        assert consumer._filter_committable_offsets([SIGHTING]) == {SIGHTING: 42}
    finally:
        consumer._thread.thread_loop.close()  # made with the consumer


async def test_a_record_after_a_jump_is_held_back_until_the_records_jumped_over_come(
    tmp_path: Any, monkeypatch: Any,
) -> None:
    """The consumer read offset 1 of a partition, committed 2, then fetched 7, 8: faust would
    hand out 7 and 8 before 2..6 (a case closed before it was opened). The worker's consumer
    drops them and seeks back to 2; after three jumps to one target (records gone), it lets
    them through as faust does. A compacted topic keeps faust's behaviour."""
    import faust  # noqa: PLC0415 - only this test builds an app
    from faust.types.tuples import ConsumerMessage  # noqa: PLC0415

    from exchange.workflows.runtime import faust_patches  # noqa: PLC0415

    app = faust.App(
        "workflows.test-jump", broker="kafka://127.0.0.1:9", datadir=str(tmp_path),
        loop=asyncio.get_running_loop(),
    )
    rewinds = Counter("rewinds", "", ["topic"], registry=CollectorRegistry())
    faust_patches.install(app, rewinds, compacted=frozenset({BOARD.topic}))
    app.topics.acking_topics.update({SIGHTING.topic, BOARD.topic})
    consumer: Any = app.consumer
    fetched: list[tuple[Any, int]] = []
    sought: list[tuple[Any, int]] = []

    async def faust_getmany(self: Any, timeout: float) -> Any:  # noqa: ASYNC109 - faust's
        for tp, offset in fetched:
            yield tp, ConsumerMessage(tp.topic, tp.partition, offset, 0.0, 0, [], b"k", b"v",
                                      None, tp=tp, generation_id=1)

    async def seek(tp: Any, offset: int) -> None:
        sought.append((tp, offset))
        consumer._read_offset[tp] = offset

    monkeypatch.setattr(faust.transport.consumer.Consumer, "getmany", faust_getmany)
    monkeypatch.setattr(consumer, "seek", seek)

    async def handed_out() -> list[tuple[str, int]]:
        return [(tp.topic, m.offset) async for tp, m in consumer.getmany(timeout=0.1)]

    try:
        for tp in (SIGHTING, BOARD):
            consumer._read_offset[tp] = 1
            consumer._committed_offset[tp] = 2
        fetched[:] = [(SIGHTING, 7), (BOARD, 7), (SIGHTING, 8)]
        assert await handed_out() == [(BOARD.topic, 7)]
        assert sought == [(SIGHTING, 2)]

        fetched[:] = [(SIGHTING, 2), (SIGHTING, 3)]  # after the seek: in order, handed out
        assert await handed_out() == [(SIGHTING.topic, 2), (SIGHTING.topic, 3)]

        consumer._read_offset[SIGHTING] = 1
        fetched[:] = [(SIGHTING, 9)]
        for _ in range(faust_patches.JUMPS_BEFORE_YIELDING - 1):  # the same jump again ...
            consumer._read_offset[SIGHTING] = 1
            assert await handed_out() == []
        consumer._read_offset[SIGHTING] = 1
        assert await handed_out() == [(SIGHTING.topic, 9)]  # ... until it is let through
    finally:
        consumer._thread.thread_loop.close()  # made with the consumer


async def test_internal_topics_are_created_again_while_a_broker_is_down(tmp_path: Any) -> None:
    """A worker starting while the controller node is down got NodeNotReadyError from faust's
    topic creation and exited (the nemesis run); now it retries, and still fails on errors
    that are not transient."""
    import aiokafka  # noqa: PLC0415
    import faust  # noqa: PLC0415
    import pytest  # noqa: PLC0415

    from exchange.workflows.runtime import faust_patches  # noqa: PLC0415

    app = faust.App(
        "workflows.test-topics", broker="kafka://127.0.0.1:9", datadir=str(tmp_path),
        loop=asyncio.get_running_loop(),
    )
    calls: list[str] = []
    failures = [aiokafka.errors.NodeNotReadyError("node 1"), Exception("Controller node is None")]

    async def create(topic: str) -> None:
        calls.append(topic)
        if failures:
            raise failures.pop(0)

    transport: Any = app.transport
    transport._create_topic = create
    faust_patches.patient_topic_creation(app)
    await transport._create_topic("workflows.x-changelog")
    assert calls == ["workflows.x-changelog"] * 3

    failures.append(aiokafka.errors.TopicAuthorizationFailedError("denied"))
    with pytest.raises(aiokafka.errors.TopicAuthorizationFailedError):
        await transport._create_topic("workflows.y-changelog")


def test_every_private_name_the_patches_use_still_exists() -> None:
    from exchange.workflows.runtime import faust_patches  # noqa: PLC0415

    assert faust_patches.missing_private_names() == []


def test_a_private_name_that_went_away_is_reported(monkeypatch: Any) -> None:
    from exchange.workflows.runtime import faust_patches  # noqa: PLC0415

    consumer = faust_patches.faust_aiokafka.Consumer
    monkeypatch.setattr(faust_patches, "PRIVATE_NAMES", (
        (consumer, "_add_gap"), (consumer, "_no_such_internal"),
    ))
    [missing] = faust_patches.missing_private_names()
    assert missing.endswith("Consumer._no_such_internal")


def test_the_patches_refuse_versions_they_were_not_proven_with(monkeypatch: Any) -> None:
    import pytest  # noqa: PLC0415

    from exchange.workflows.exceptions import UnsupportedRuntimeError  # noqa: PLC0415
    from exchange.workflows.runtime import faust_patches  # noqa: PLC0415

    faust_patches._check_versions()  # the pinned versions pass
    monkeypatch.setattr(faust_patches.metadata, "version",
                        lambda name: "0.16.0" if name == "faust-streaming" else "0.14.0")
    with pytest.raises(UnsupportedRuntimeError, match=r"faust-streaming 0\.16\.0 .* 0\.15\.3"):
        faust_patches._check_versions()


def test_no_other_module_uses_those_private_names() -> None:
    from pathlib import Path  # noqa: PLC0415

    from exchange.workflows.runtime import faust_patches  # noqa: PLC0415

    root = Path(__file__).resolve().parents[3]
    names = {name for _, name in faust_patches.PRIVATE_NAMES}
    users = {
        str(path.relative_to(root))
        for folder in ("exchange", "connectors", "benchmarks")
        for path in (root / folder).rglob("*.py")
        if any(name in path.read_text(encoding="utf-8") for name in names)
    }
    assert users == {"exchange/workflows/runtime/faust_patches.py"}
