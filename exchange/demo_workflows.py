"""The main job's second act: the workflows at work on a compressed clock.

A workflow worker (``exchange worker --time-scale 300``: five minutes last one second, an hour
twelve) runs beside the agencies. Transport staff report three sightings: at Xi'an North
station, on train G87 between stations, and in a Yanta street; the police units responsible
receive them, the railway police acknowledge, the Yanta sub-bureau does not and the dispatch
escalates to the city command centre. Yanta police report a missing six-year-old: the public
alert widens from 100 to 500 km, naming the transport facilities inside the circle; a
sighting at Xiaozhai metro matches the child and reaches the case owner; the child is found and
the alert is cancelled. Each line says who got what, and when (seconds since the act began).
Personal data is never printed: ids, units, rules, radii and scores only.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from exchange.client.metrics import BusMetrics
from exchange.client.publisher import Publisher
from exchange.codec import EventCodec
from exchange.models.common import Location, TransportFacility, TransportFacilityKind
from exchange.models.dispatch import DispatchAcknowledgement, SightingDispatch
from exchange.models.events import MissingPersonReport, MissingPersonStatus, TransportSighting
from exchange.models.examples import example_json, example_transport_sighting
from exchange.models.exceptions import validate_event
from exchange.models.workflow_events import CandidateMatch, EmergencyAlert
from exchange.settings import KafkaSettings
from exchange.topology.model import Topology
from exchange.workflows.alerts import public_reference

KafkaAs = Callable[[str], KafkaSettings]
TIME_SCALE = 300
WATCH = (  # (reading agency, topic) the act prints
    ("railway-police", "exchange.sighting.to.railway-police"),
    ("metro-police", "exchange.sighting.to.metro-police"),
    ("police", "exchange.sighting.to.police"),
    ("police", "exchange.match.to.police"),
    ("transport", "exchange.alert.to.transport"),
)


class Act:
    def __init__(self, topology: Topology, kafka_as: KafkaAs, codec: EventCodec) -> None:
        self.topology = topology
        self.kafka_as = kafka_as
        self.codec = codec
        self.run = uuid.uuid4().hex[:6].upper()
        self.started = time.monotonic()
        self.seen: list[BaseModel] = []
        self.acknowledge: set[str] = set()  # sighting ids whose dispatches the unit acknowledges
        self.publishers: dict[str, Publisher] = {}

    def say(self, text: str) -> None:
        print(f"  [+{time.monotonic() - self.started:5.1f}s] {text}", flush=True)

    def mine(self, event: BaseModel) -> bool:
        key = getattr(event, "sightingId", None) or getattr(event, "caseId", None)
        if isinstance(event, EmergencyAlert):
            key = event.reference
        return bool(key) and (self.run in str(key) or key == self.reference)

    async def publish(self, agency: str, event: BaseModel) -> None:
        publisher = self.publishers.get(agency)
        if publisher is None:
            publisher = self.publishers[agency] = Publisher(
                self.kafka_as(self.topology.principal_of(agency)), self.codec, self.topology,
                agency=agency, source=f"/agencies/{agency}/demo",
                metrics=BusMetrics.on(CollectorRegistry()),
            )
            await publisher.__aenter__()
        await publisher.publish(event)

    async def watch(self, agency: str, topic: str, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            topic, **self.kafka_as(self.topology.principal_of(agency)).aiokafka_kwargs(),
            group_id=f"{agency}.demo-act.{self.run}", auto_offset_reset="latest",
        )
        await consumer.start()
        try:
            while not consumer.assignment():
                await consumer.getmany(timeout_ms=100)
            while not stop.is_set():
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        event = self.codec.decode(record.value, record.headers).event
                        if self.mine(event):
                            self.seen.append(event)
                            await self.show(agency, event)
        finally:
            await consumer.stop()

    async def show(self, agency: str, event: BaseModel) -> None:
        if isinstance(event, SightingDispatch):
            unit = event.target.unitId or event.target.agencyId
            due = (event.ackDueAt - event.dispatchedAt).total_seconds()
            flag = ", FLAGGED" if event.flagged else ""
            self.say(f"{unit} <- {event.kind} for sighting {event.sightingId} "
                     f"(rule {event.rule}{flag}; acknowledge within {due:.0f}s): {event.reason}")
            if event.sightingId in self.acknowledge and event.kind != "ESCALATION":
                await self.publish(event.target.agencyId, DispatchAcknowledgement(
                    dispatchId=event.dispatchId, sightingId=event.sightingId,
                    unit=event.target, acknowledgedAt=datetime.now(UTC),
                ))
                self.say(f"{unit} acknowledges {event.kind} for {event.sightingId}")
        elif isinstance(event, EmergencyAlert):
            area = (f", radius {event.radiusKm} km, {len(event.facilities)} transport "
                    "facilities inside" if event.radiusKm else ": the alert is withdrawn")
            self.say(f"transport <- CAP {event.msgType} #{event.sequence} of alert "
                     f"{event.reference}{area}")
        elif isinstance(event, CandidateMatch):
            self.say(f"{event.owner.unitId or event.owner.agencyId} <- candidate match: "
                     f"sighting {event.sightingId} may show case {event.caseId} "
                     f"(score {event.score:.2f}: "
                     + ", ".join(f"{f.factor} {f.score:.1f}" for f in event.factors) + ")")

    async def wait_for(self, test: Callable[[BaseModel], bool], timeout_s: float = 60) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(test(e) for e in self.seen):
                return True
            await asyncio.sleep(0.1)
        self.say("(not seen in time)")
        return False

    @property
    def reference(self) -> str:
        return public_reference(self.case_id)

    @property
    def case_id(self) -> str:
        return f"A610113D{self.run}"

    def sighting(self, tag: str, *, facility: TransportFacility | None, region: str | None,
                 lat: float, lon: float, child_at_risk: bool = True) -> TransportSighting:
        base = example_transport_sighting()
        now = datetime.now(UTC)
        return base.model_copy(update={
            "sightingId": f"{tag}-{self.run}",
            "observedAt": now - timedelta(minutes=1), "reportedAt": now,
            "childAtRisk": child_at_risk,
            "location": Location(lat=lat, lon=lon, regionCode=region, facility=facility),
        })

    def missing_child(self, status: str = "OPEN") -> MissingPersonReport:
        data = example_json("missing-person-report")
        person = data["missingPerson"]
        person.pop("documents", None)
        person.pop("birthDate", None)
        person["description"] = {"ageYears": 6, "gender": "MALE",
                                 "clothing": "red T-shirt, blue shorts"}
        now = datetime.now(UTC)
        data.update(caseId=self.case_id, status=status,
                    lastSeenAt=(now - timedelta(minutes=20)).isoformat(),
                    reportedAt=now.isoformat())
        return validate_event(MissingPersonReport, data)


async def play(topology: Topology, kafka_as: KafkaAs, codec: EventCodec, state_dir: Path) -> int:
    print(f"\n-- 3. The workflows (a worker on a compressed clock: x{TIME_SCALE}, so a "
          "5-minute deadline lasts 1 s and an hour of the alert schedule 12 s) --")
    worker = _start_worker(state_dir, kafka_as(topology.principal_of("workflows")))
    act = Act(topology, kafka_as, codec)
    stop = asyncio.Event()
    watchers = [asyncio.create_task(act.watch(a, t, stop)) for a, t in WATCH]
    try:
        await asyncio.sleep(3)  # the watchers join their groups
        await _scenario(act)
    finally:
        stop.set()
        await asyncio.gather(*watchers, return_exceptions=True)
        for publisher in act.publishers.values():
            await publisher.__aexit__(None, None, None)
        _stop_worker(worker)
    return 0


async def _scenario(act: Act) -> None:
    station = TransportFacility(kind=TransportFacilityKind.RAILWAY_STATION, code="EAY",
                                name="西安北站 Xi'an North")
    train = TransportFacility(kind=TransportFacilityKind.TRAIN, code="G87",
                              name="G87 Beijing West - Chengdu East", nextStop="汉中 Hanzhong")
    metro = TransportFacility(kind=TransportFacilityKind.METRO_STATION, code="XIAOZHAI",
                              name="小寨 Xiaozhai")
    at_station = act.sighting("NORTH", facility=station, region="610112",
                              lat=34.3773, lon=108.9393, child_at_risk=False)
    on_train = act.sighting("TRAIN", facility=train, region=None, lat=34.35, lon=108.70,
                            child_at_risk=False)
    street = act.sighting("STREET", facility=None, region="610113", lat=34.2235, lon=108.9474)
    act.acknowledge |= {at_station.sightingId, on_train.sightingId}
    act.say("transport reports a sighting at Xi'an North station (the worker starts up first)")
    await act.publish("transport", at_station)
    await act.wait_for(lambda e: getattr(e, "sightingId", "") == at_station.sightingId)
    act.say("transport reports a sighting on train G87, between stations")
    await act.publish("transport", on_train)
    act.say("transport reports a sighting in a Yanta street; nobody there acknowledges it")
    await act.publish("transport", street)
    await act.wait_for(lambda e: isinstance(e, SightingDispatch) and e.kind == "ESCALATION")

    act.say("Yanta police report a missing 6-year-old, last seen 20 minutes ago")
    await act.publish("police", act.missing_child())
    await act.wait_for(lambda e: isinstance(e, EmergencyAlert) and e.radiusKm == 200)
    match = act.sighting("METRO", facility=metro, region="610113", lat=34.2235, lon=108.9474)
    match = match.model_copy(update={"suspectedPersons": (
        match.suspectedPersons[0].model_copy(update={"ageRange": None, "ageYears": 6}),
        *match.suspectedPersons[1:])})
    act.acknowledge.add(match.sightingId)
    act.say("metro staff at Xiaozhai report a boy in a red T-shirt with two adults")
    await act.publish("transport", match)
    await act.wait_for(
        lambda e: isinstance(e, CandidateMatch) and e.sightingId == match.sightingId
    )
    await act.wait_for(lambda e: isinstance(e, EmergencyAlert) and e.radiusKm == 500)
    act.say("police find the child: the case is closed")
    await act.publish("police", act.missing_child(status=MissingPersonStatus.FOUND.value))
    await act.wait_for(lambda e: isinstance(e, EmergencyAlert) and e.msgType == "CANCEL")


def _start_worker(
    state_dir: Path, kafka: KafkaSettings, time_scale: float = TIME_SCALE
) -> subprocess.Popen[bytes]:
    """``exchange worker`` in its own process, connected as the workflows principal."""
    env = {**os.environ, "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
           "EXCHANGE_STATE_DIR": str(state_dir)}
    if kafka.username and kafka.password is not None:
        env |= {"EXCHANGE_KAFKA__USERNAME": kafka.username,
                "EXCHANGE_KAFKA__PASSWORD": kafka.password.get_secret_value()}
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "demo-worker.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "exchange.cli.main", "worker", "--replication", "1",
             "--time-scale", str(time_scale), "--data-dir", str(state_dir / "demo-worker")],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
