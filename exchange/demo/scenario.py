"""The main job's scenario: five agencies publish the five core events; the addressees get them.

Played on a running broker with the topology applied (``exchange demo``). Every agency connects
as its own SCRAM principal, so what each one receives is what the broker's ACLs allow, not what
this script chooses. The output names who sent what to whom, with topic, partition, offset and
delivery time; it never prints personal data (names, ID numbers, descriptions).

Everything is protected, as on the real bus: each agency holds its own keys, certified on the
bus by the joint-meeting office (:mod:`.keys`); every event is sealed for the readers entitled to
its sensitive fields and signed; every reader verifies and opens.

Besides the happy path it shows the bus's guard rails: an event with a bad resident-ID check
digit is refused to its sender (nothing sent); an agency that is not addressed by a topic is
denied by the broker; what an agency not entitled to a field sees of it (sealed); a forged event
(signed with a key no root certified), a tampered one and garbage bytes are quarantined with
their reasons and the consumer goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from exchange.client.consumer import EventConsumer, Handler
from exchange.client.exceptions import NotAuthorizedError
from exchange.client.publisher import Publisher, choose_topic
from exchange.codec import DecodedEvent, EventCodec
from exchange.demo import found_child as demo_found_child
from exchange.demo import referrals as demo_referrals
from exchange.demo import workflows as demo_workflows
from exchange.demo.act import AGENCY, KafkaAs, start_worker, stop_worker
from exchange.demo.guard_rails import show_quarantine, show_sealed
from exchange.demo.keys import DemoKeys, certify_demo_keys
from exchange.examples import example_json
from exchange.metrics import BusMetrics
from exchange.models.exceptions import ValidationFailed, validate_event
from exchange.models.registry import EVENTS, spec_for_model
from exchange.protection.quarantine import quarantine_topic
from exchange.schemas.catalogue import Catalogue
from exchange.topology.model import Topology

# (publishing agency, event type) in the order the story unfolds.
STORY: tuple[tuple[str, str, str], ...] = (
    ("police", "missing-person-report",
     "Yanta sub-bureau reports a missing 6-year-old; transport and civil affairs must search"),
    ("transport", "transport-sighting",
     "a conductor on a train reports a suspected trafficking case to the police"),
    ("police", "rescue",
     "police rescue a victim; civil affairs, health, justice, HR, education, women's federation"),
    ("police", "referral",
     "police refer the rescued child to civil affairs for temporary assistance (Art. 6)"),
    ("market-regulation", "intermediary-revocation",
     "market regulation revokes an illegal job intermediary; HR, police, cyberspace must know"),
)


@dataclass
class Receipt:
    agency: str
    topic: str
    partition: int
    offset: int
    seconds: float


@dataclass
class Tracker:
    """Which of this run's events each agency received."""

    sent_at: dict[str, float] = field(default_factory=dict)
    receipts: dict[str, list[Receipt]] = field(default_factory=dict)
    expected: int = 0
    all_arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def received(self) -> int:
        return sum(map(len, self.receipts.values()))

    def handler_for(self, agency: str) -> Handler:
        async def handle(decoded: DecodedEvent, record: ConsumerRecord) -> None:
            sent = self.sent_at.get(decoded.attributes.id)
            if sent is None:
                return  # an event of an earlier run
            self.receipts.setdefault(decoded.attributes.id, []).append(
                Receipt(agency, record.topic, record.partition, record.offset,
                        time.monotonic() - sent)
            )
            if self.received >= self.expected:
                self.all_arrived.set()

        return handle


def _fresh(name: str, run: str) -> BaseModel:
    """The example event of ``name``, with case keys unique to this run."""
    spec = EVENTS[name]
    data = example_json(name)
    for key_field in (spec.key_field, spec.fallback_key_field):
        # Case and event ids get a per-run suffix; codes with check digits stay as they are.
        if key_field and key_field.endswith("Id") and isinstance(data.get(key_field), str):
            data[key_field] = f"{data[key_field]}-{run}"
    return validate_event(spec.model, data)


async def run_demo(
    topology: Topology, kafka_as: KafkaAs, state_dir: Path,
    personalise: Callable[[BaseModel], BaseModel] | None = None,
) -> int:
    """Play the scenario; ``personalise`` (tests) changes every event before it is published,
    e.g. to put canary identities in its personal fields."""
    run = uuid.uuid4().hex[:6]
    codec = EventCodec(Catalogue.load())
    metrics = BusMetrics.on(CollectorRegistry())
    print(f"== Exchange bus demo (run {run}) ==")
    keys = await certify_demo_keys(topology, kafka_as, codec, state_dir)
    keys.personalise = personalise or (lambda event: event)
    events = [(agency, keys.personalise(_fresh(name, run)), text) for agency, name, text in STORY]
    readers = sorted({
        reader
        for agency, event, _ in events
        for reader in topology.topic(choose_topic(topology, agency, event)).readers
        if topology.agency(reader).kind == "agency"
    })
    print(f"\n{len(readers)} receiving agencies connect, each as its own principal: "
          f"{', '.join(readers)}")
    # The act-3 worker starts now: its start-up (a minute for a new app's tables) overlaps
    # acts 1 and 2.
    worker = start_worker(state_dir, kafka_as(topology.principal_of(AGENCY)),
                          demo_workflows.TIME_SCALE, keys)
    try:
        await _acts_1_and_2(topology, kafka_as, keys, metrics=metrics, readers=readers,
                            events=events)
    except BaseException:
        stop_worker(worker)
        raise
    code = await demo_workflows.play(topology, kafka_as, keys, state_dir, worker)
    code = code or await demo_referrals.play(topology, kafka_as, keys, state_dir)
    return code or await demo_found_child.play(topology, kafka_as, keys, state_dir)


async def _acts_1_and_2(
    topology: Topology, kafka_as: KafkaAs, keys: DemoKeys, *, metrics: BusMetrics,
    readers: list[str], events: list[tuple[str, BaseModel, str]],
) -> None:
    codec = keys.codec
    tracker = Tracker()
    consumers = {}
    for agency in readers:
        topics = sorted({
            choose_topic(topology, sender, event)
            for sender, event, _ in events
            if agency in topology.topic(choose_topic(topology, sender, event)).readers
        })
        consumers[agency] = EventConsumer(
            kafka_as(topology.principal_of(agency)), codec, topics, agency=agency,
            group_id=f"{agency}.demo", deadletter_topic=topology.deadletter_topic(agency).name,
            metrics=metrics, protection=keys.codec_for(agency),
            quarantine_topic=quarantine_topic(agency),
        )
    await asyncio.gather(*(c.start() for c in consumers.values()))
    publishers = {
        agency: Publisher(
            kafka_as(topology.principal_of(agency)), codec, topology, agency=agency,
            source=f"/agencies/{agency}/demo", metrics=metrics,
            protection=keys.codec_for(agency),
        )
        for agency in sorted({agency for agency, _, _ in STORY})
    }
    await asyncio.gather(*(p.__aenter__() for p in publishers.values()))
    try:
        await _warm_up(consumers, tracker)
        print("\n-- 1. The five core events, each published by its own agency --")
        stop = asyncio.Event()
        polling = asyncio.create_task(_poll_all(consumers, tracker, stop))
        tracker.expected = _expected(topology, consumers, events)
        positions = {}
        for agency, event, text in events:
            positions[spec_for_model(type(event)).name] = await _publish(
                publishers[agency], event, text, tracker
            )
        await _wait_for_deliveries(tracker)
        stop.set()
        await polling
        _report(tracker)
        print("\n-- 2. Guard rails --")
        _refuse_bad_id()
        await _denied(topology, kafka_as, keys, metrics)
        await show_sealed(keys, kafka_as, positions["missing-person-report"])
        await show_quarantine(keys, kafka_as, consumers["police"], tracker.handler_for("police"),
                              events[1][1])
    finally:
        await asyncio.gather(*(p.__aexit__(None, None, None) for p in publishers.values()))
        await asyncio.gather(*(c.stop() for c in consumers.values()))
    _summary(metrics.registry)


async def _warm_up(consumers: dict[str, EventConsumer], tracker: Tracker) -> None:
    """Let every consumer join its group and fetch once, so delivery times are honest."""
    await asyncio.gather(
        *(c.poll_once(tracker.handler_for(a), timeout_ms=1000) for a, c in consumers.items())
    )


async def _poll_all(
    consumers: dict[str, EventConsumer], tracker: Tracker, stop: asyncio.Event
) -> None:
    """Every receiving agency keeps reading while the events are published."""
    while not stop.is_set():
        await asyncio.gather(
            *(c.poll_once(tracker.handler_for(a), timeout_ms=100) for a, c in consumers.items())
        )


async def _publish(
    publisher: Publisher, event: BaseModel, text: str, tracker: Tracker
) -> tuple[str, int, int]:
    spec = spec_for_model(type(event))
    topic = choose_topic(publisher.topology, publisher.agency, event)
    encoded = publisher.encode(event, topic=topic)
    tracker.sent_at[encoded.attributes.id] = time.monotonic()
    result = await publisher.send_encoded(topic, encoded)
    print(f"\n[{publisher.agency}] {text}")
    print(f"  published {spec.name} key={result.key} -> {result.topic}"
          f"[{result.partition}]@{result.offset} (id {result.event_id[:8]}), sealed and signed")
    return result.topic, result.partition, result.offset


def _expected(
    topology: Topology, consumers: dict[str, EventConsumer],
    events: list[tuple[str, BaseModel, str]],
) -> int:
    return sum(
        len([r for r in topology.topic(choose_topic(topology, a, e)).readers if r in consumers])
        for a, e, _ in events
    )


async def _wait_for_deliveries(tracker: Tracker, timeout_s: float = 30) -> None:
    with contextlib.suppress(TimeoutError):  # the report says what did not arrive
        await asyncio.wait_for(tracker.all_arrived.wait(), timeout_s)


def _report(tracker: Tracker) -> None:
    print("\n-- Who received what (time from publish to the receiving agency's handler) --")
    for event_id, receipts in tracker.receipts.items():
        got = ", ".join(f"{r.agency} ({r.seconds * 1000:.0f} ms)" for r in sorted(
            receipts, key=lambda r: r.agency))
        print(f"  {receipts[0].topic} (id {event_id[:8]}): {got}")
    print(f"  {tracker.received}/{tracker.expected} deliveries made")


def _refuse_bad_id() -> None:
    data = example_json("rescue")
    victims = data.get("victims") or []
    documents = victims[0]["person"].get("documents") if victims else None
    if documents:
        number = documents[0]["number"]
        wrong = "0" if number[-1] != "0" else "1"
        documents[0]["number"] = number[:-1] + wrong
    print("\n[police] publishes a rescue whose victim's resident ID has a wrong check digit")
    try:
        validate_event(EVENTS["rescue"].model, data)
    except ValidationFailed as error:
        for problem in error.errors:
            print(f"  refused to the sender, nothing sent: {problem.field}: [{problem.rule}]")
        return
    print("  UNEXPECTED: the invalid event was accepted")


async def _denied(
    topology: Topology, kafka_as: KafkaAs, keys: DemoKeys, metrics: BusMetrics
) -> None:
    print("\n[education] tries to read the sightings topic, which is not addressed to it")
    consumer = EventConsumer(
        kafka_as(topology.principal_of("education")), keys.codec, ["exchange.sighting"],
        agency="education", group_id="education.demo-snoop",
        deadletter_topic=topology.deadletter_topic("education").name, metrics=metrics,
        protection=keys.codec_for("education"),
    )
    try:
        await consumer.start()
        await consumer.poll_once(lambda d, r: asyncio.sleep(0), timeout_ms=2000)
        print("  UNEXPECTED: the broker let it read")
    except NotAuthorizedError as error:
        print(f"  denied by the broker: {type(error.cause).__name__}")
    finally:
        await consumer.stop()


def _value(registry: CollectorRegistry, name: str) -> float:
    return sum(
        sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == name
    )


def _summary(registry: CollectorRegistry) -> None:
    print("\n-- Metrics (Prometheus, as an operator sees them) --")
    for name in ("exchange_events_published_total", "exchange_events_consumed_total",
                 "exchange_events_quarantined_total", "exchange_events_dead_lettered_total"):
        print(f"  {name} = {_value(registry, name):.0f}")
