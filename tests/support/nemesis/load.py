"""The load: transport sightings at a steady rate through the three entry points, each retried
until its entry point acknowledged it, and poison records written straight to the topic.

An input counts (is expected downstream) once acknowledged: the Publisher's send returned (the
broker has it with ``acks=all``), the gateway answered 202, the file-drop connector moved the
file to ``processed/``. A retry keeps the input's identity (the Publisher's event id, the
gateway's ``Idempotency-Key``, the file's content), so a retry after a fault is a copy the
workflows drop, never a second sighting.

Missing-minor reports with a public alert go through the Publisher as the police, at a slower
rate; each case is closed (a later report, FOUND) :data:`CLOSE_AFTER_S` after it was
acknowledged, so its alert should run Alert, Update (the child was last seen
:data:`LAST_SEEN_BEFORE` before the report: the radius widens 20 s later), Cancel.

Three places, each with the dispatches the routing rules owe it (topology/ reference data):
a street in Yanta → ``police.yanta``; a street in Beilin → ``police.beilin``; train G87 at
Xi'an North, next stop Hanzhong → respond by the station's railway police post and intercept
by the railway police (forwarded: Hanzhong is outside Xi'an).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import ssl
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from connectors.adapters.file_drop import FILE_NAMESPACE
from exchange.client.publisher import Publisher
from exchange.codec import EventCodec
from exchange.examples.core import example_missing_person_report, example_transport_sighting
from exchange.metrics import BusMetrics
from exchange.models.common import Location
from exchange.models.missing_persons import MissingPersonReport, MissingPersonStatus
from exchange.protection.unprotected import Unprotected
from exchange.rules.public_alert import public_reference
from exchange.tls.context import client_context
from support.nemesis.checker import AlertCase, Dispatch, Expected
from support.nemesis.system import TOKEN, System

log = logging.getLogger(__name__)

NORTH = "railway-police.xian-north-station"
PLACES: dict[str, tuple[dict[str, Any], tuple[tuple[str, str, str, str], ...]]] = {
    # place: (location changes, ((inbox, kind, target, dispatch id suffix), ...))
    "yanta": ({"facility": None, "regionCode": "610113", "lat": 34.2235, "lon": 108.9474},
              (("police", "RESPOND", "police.yanta", "respond"),)),
    "beilin": ({"facility": None, "regionCode": "610103", "lat": 34.2610, "lon": 108.9423},
               (("police", "RESPOND", "police.beilin", "respond"),)),
    "train": ({}, (("railway-police", "RESPOND", NORTH, "respond"),
                   ("railway-police", "INTERCEPT", "railway-police", "intercept"))),
}
RETRY_S = 0.5
LAST_SEEN_BEFORE = timedelta(hours=1) - timedelta(seconds=20)
CLOSE_AFTER_S = 45.0


def sighting_json(sighting_id: str, place: str) -> dict[str, Any]:
    base = example_transport_sighting()
    changes, _ = PLACES[place]
    location = Location.model_validate({**base.location.model_dump(), **changes})
    event = base.model_copy(update={"sightingId": sighting_id, "location": location})
    return event.model_dump(mode="json", exclude_none=True)


def expected(sighting_id: str, place: str, event_id: str, via: str) -> Expected:
    _, outputs = PLACES[place]
    return Expected(sighting_id, event_id, via, tuple(
        Dispatch(inbox, sighting_id, f"{event_id}:{suffix}", kind, target)
        for inbox, kind, target, suffix in outputs
    ))


def missing_minor(case_id: str) -> MissingPersonReport:
    """An OPEN report of a missing child with a public alert, reported now, last seen
    :data:`LAST_SEEN_BEFORE` ago."""
    now = datetime.now(UTC)
    base = example_missing_person_report()
    return MissingPersonReport.model_validate({
        **base.model_dump(), "caseId": case_id, "reportedAt": now,
        "lastSeenAt": now - LAST_SEEN_BEFORE,
    })


UNPROTECTED = Unprotected("the nemesis measures delivery under faults, not field protection: "
                          "its checker reads the dispatches' routing fields in the clear")


@dataclass
class Load:
    system: System
    codec: EventCodec
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    accepted: list[tuple[float, Expected]] = field(default_factory=list)
    pending_files: dict[str, list[Expected]] = field(default_factory=dict)
    poison: list[str] = field(default_factory=list)
    alert_cases: dict[str, AlertCase] = field(default_factory=dict)  # by case id
    sent: int = 0
    retries: int = 0

    def place(self, n: int) -> str:
        return ("yanta", "beilin", "train")[n % 3]

    async def publisher_path(self, count: int, rate: float, stop: asyncio.Event) -> None:
        async with Publisher(
            self._settings_of("transport"), self.codec, self.system.topology,
            agency="transport", source=f"/agencies/transport/nemesis-{self.run}",
            metrics=BusMetrics.on(CollectorRegistry()), protection=UNPROTECTED,
        ) as publisher:
            for n in range(count):
                if stop.is_set():
                    return
                sid, place = f"P-{self.run}-{n}", self.place(n)
                event = example_transport_sighting().model_validate(sighting_json(sid, place))
                event_id = await self._publish(publisher, event, sid)
                self._accept(expected(sid, place, event_id, "publisher"))
                await asyncio.sleep(1 / rate)

    def _settings_of(self, agency: str) -> Any:
        topology = self.system.topology
        principal = topology.principal_of(agency)
        return self.system.cluster.client_settings().with_principal(
            principal, self.system.cluster.credentials.password_for(principal)
        )

    async def missing_person_path(self, cases: int, interval_s: float,
                                  stop: asyncio.Event) -> None:
        """``cases`` missing-minor reports with a public alert, one per ``interval_s``, each
        closed as FOUND :data:`CLOSE_AFTER_S` after it was acknowledged (those still open when
        the load stops stay open: their alerts must not be cancelled)."""
        closing: deque[tuple[float, MissingPersonReport]] = deque()
        async with Publisher(
            self._settings_of("police"), self.codec, self.system.topology, agency="police",
            source=f"/agencies/police/nemesis-{self.run}",
            metrics=BusMetrics.on(CollectorRegistry()), protection=UNPROTECTED,
        ) as publisher:
            opened, next_open = 0, time.monotonic()
            while not stop.is_set():
                now = time.monotonic()
                if closing and closing[0][0] <= now:
                    _, report = closing.popleft()
                    found = report.model_copy(update={"status": MissingPersonStatus.FOUND,
                                                      "reportedAt": datetime.now(UTC)})
                    await self._publish(publisher, found, f"{self.run}:{report.caseId}:found")
                    self.alert_cases[report.caseId] = AlertCase(
                        report.caseId, public_reference(report.caseId), closed=True)
                    self.sent += 1
                elif opened < cases and now >= next_open:
                    report = missing_minor(f"M{self.run}{opened:05d}")
                    await self._publish(publisher, report, f"{self.run}:{report.caseId}:open")
                    self.alert_cases[report.caseId] = AlertCase(
                        report.caseId, public_reference(report.caseId), closed=False)
                    self.sent += 1
                    closing.append((time.monotonic() + CLOSE_AFTER_S, report))
                    opened += 1
                    next_open += interval_s
                else:
                    await asyncio.sleep(0.2)

    async def _publish(self, publisher: Publisher, event: Any, name: str) -> str:
        """Publish until acknowledged, under one event id (a retry is a copy, not a second
        event); return that id."""
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, name))
        while True:
            try:
                await publisher.publish(event, id=event_id)
            except Exception as error:  # noqa: BLE001 - a fault: retry, same id
                self.retries += 1
                log.info("publisher retry %s: %s", name, error)
                await asyncio.sleep(RETRY_S)
            else:
                return event_id

    async def gateway_path(self, count: int, rate: float, stop: asyncio.Event) -> None:
        context = client_context(cafile=self.system.cluster.pki.ca_file)
        url = f"https://127.0.0.1:{self.system.gateway_port}/v1/events/transport-sighting"
        async with aiohttp.ClientSession() as session:
            for n in range(count):
                if stop.is_set():
                    return
                sid, place = f"G-{self.run}-{n}", self.place(n + 1)
                body = sighting_json(sid, place)
                event_id = await self._post(session, url, context, body, f"{self.run}-{n}")
                self._accept(expected(sid, place, event_id, "gateway"))
                await asyncio.sleep(1 / rate)

    async def _post(self, session: aiohttp.ClientSession, url: str, context: ssl.SSLContext,
                    body: dict[str, Any], key: str) -> str:
        headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": key}
        while True:
            try:
                async with session.post(url, json=body, headers=headers, ssl=context,
                                        timeout=aiohttp.ClientTimeout(total=15)) as response:
                    answer = await response.json()
                    if response.status == 202:
                        return str(answer["eventId"])
                    if response.status != 503:
                        raise AssertionError(f"gateway answered {response.status}: {answer}")
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                log.info("gateway retry %s: %s", key, error)
            self.retries += 1
            await asyncio.sleep(RETRY_S)

    async def file_path(self, files: int, rows: int, interval_s: float,
                        stop: asyncio.Event) -> None:
        for f in range(files):
            if stop.is_set():
                return
            lines, items = [], []
            for r in range(rows):
                sid, place = f"D-{self.run}-{f}-{r}", self.place(r + 2)
                lines.append(json.dumps(sighting_json(sid, place), ensure_ascii=False))
                items.append((sid, place))
            content = ("\n".join(lines) + "\n").encode()
            digest = hashlib.sha256(content).hexdigest()
            source = self.system.file_drop_source
            name = f"{self.run}-{f:04d}.jsonl"
            self.pending_files[name] = [
                expected(sid, place, str(uuid.uuid5(FILE_NAMESPACE, f"{source}:{digest}:{r}")),
                         "file-drop")
                for r, (sid, place) in enumerate(items)
            ]
            part = self.system.inbox / f".{name}.part"
            part.write_bytes(content)
            part.rename(self.system.inbox / name)
            self.sent += rows
            await asyncio.sleep(interval_s)

    def files_done(self) -> None:
        """Files the connector finished (moved to processed/): their rows are acknowledged."""
        done = self.system.inbox / "processed"
        for name in list(self.pending_files):
            if (done / name).is_file():
                for item in self.pending_files.pop(name):
                    self._accept(item, counted=False)

    async def poison_records(self, count: int, interval_s: float, stop: asyncio.Event) -> None:
        """Bytes that are no event, on the sightings topic, each under a key of its own: each
        must be dead-lettered (a copy written again by a retried send, too)."""
        settings = self._settings_of("transport")
        producer = AIOKafkaProducer(**settings.aiokafka_kwargs(), acks="all",
                                    enable_idempotence=True)
        await producer.start()
        try:
            for n in range(count):
                if stop.is_set():
                    return
                key = f"poison-{self.run}-{n}"
                while True:
                    try:
                        await producer.send_and_wait(
                            "exchange.sighting", b"\x00poison " + str(n).encode(),
                            key=key.encode(),
                        )
                        break
                    except Exception as error:  # noqa: BLE001 - a fault: send it again
                        log.info("poison retry: %s", error)
                        await asyncio.sleep(RETRY_S)
                self.poison.append(key)
                await asyncio.sleep(interval_s)
        finally:
            await producer.stop()

    def _accept(self, item: Expected, *, counted: bool = True) -> None:
        self.accepted.append((time.time(), item))
        if counted:
            self.sent += 1
