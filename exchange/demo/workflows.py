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

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from exchange.demo.act import Act, KafkaAs
from exchange.demo.keys import DemoKeys
from exchange.examples import example_json
from exchange.examples.core import example_transport_sighting
from exchange.models.common import Location, TransportFacility, TransportFacilityKind
from exchange.models.exceptions import validate_event
from exchange.models.missing_persons import (
    CandidateMatch,
    EmergencyAlert,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.models.sightings import DispatchAcknowledgement, SightingDispatch, TransportSighting
from exchange.rules.public_alert import public_reference
from exchange.topology.model import Topology

TIME_SCALE = 300
WATCH = (  # (reading agency, topic) the act prints
    ("railway-police", "exchange.sighting.to.railway-police"),
    ("metro-police", "exchange.sighting.to.metro-police"),
    ("police", "exchange.sighting.to.police"),
    ("police", "exchange.match.to.police"),
    ("transport", "exchange.alert.to.transport"),
)


class WorkflowsAct(Act):
    def __init__(self, topology: Topology, kafka_as: KafkaAs, keys: DemoKeys) -> None:
        super().__init__(topology, kafka_as, keys)
        self.seen: list[BaseModel] = []
        self.acknowledge: set[str] = set()  # sighting ids whose dispatches the unit acknowledges

    def mine(self, event: BaseModel) -> bool:
        key = getattr(event, "sightingId", None) or getattr(event, "caseId", None)
        if isinstance(event, EmergencyAlert):
            key = event.reference
        return bool(key) and (self.run in str(key) or key == self.reference)

    async def on_event(self, agency: str, event: BaseModel) -> None:
        if self.mine(event):
            self.seen.append(event)
            await self.show(agency, event)

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
        return await self.wait_until(lambda: any(test(e) for e in self.seen), timeout_s)

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


async def play(
    topology: Topology, kafka_as: KafkaAs, keys: DemoKeys, state_dir: Path,
    worker: subprocess.Popen[bytes] | None = None,
) -> int:
    print(f"\n-- 3. The workflows (a worker on a compressed clock: x{TIME_SCALE}, so a "
          "5-minute deadline lasts 1 s and an hour of the alert schedule 12 s) --")
    act = WorkflowsAct(topology, kafka_as, keys)
    await act.perform(lambda: _scenario(act), WATCH, state_dir, TIME_SCALE, worker)
    return 0


async def _scenario(act: WorkflowsAct) -> None:
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
    await act.wait_for(  # a new worker's start-up (its tables) may take a minute or more
        lambda e: getattr(e, "sightingId", "") == at_station.sightingId, timeout_s=150
    )
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

