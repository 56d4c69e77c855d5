"""Agencies on separate hosts for the tests of keys on the bus: each with its own key folder,
a keyring fed from ``exchange.keys`` and a protected codec over it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from exchange.codec import EncodedEvent, EventCodec
from exchange.examples import example_json
from exchange.models.exceptions import validate_event
from exchange.models.missing_persons import MissingPersonReport
from exchange.protection.entitlements import load_entitlements
from exchange.protection.key_bus import KeyFollower
from exchange.protection.keyring import Keyring
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier
from exchange.settings import KafkaSettings

Position = tuple[str, int, int]
TOPIC = "exchange.missing-person"
SOURCE = "/agencies/police/case-system"


class Host:
    """One agency on its own host: its key folder, its keyring fed from the bus, its codec."""

    def __init__(self, provisioned: Any, codec: EventCodec, agency: str, folder: Path,
                 pinned: str) -> None:
        self.provisioned = provisioned
        self.agency = agency
        self.codec = codec
        self.kafka = provisioned.kafka_as(agency)
        self.store = FileKeyStore(folder)
        self.store.init([agency])
        self.keyring = Keyring(pinned, self.store)
        self.follower = KeyFollower(self.kafka, self.keyring)

    def protected(self) -> ProtectedCodec:
        topology = self.provisioned.topology
        verifier = Verifier(self.keyring, writers_of=lambda t: topology.topic(t).writers)
        return ProtectedCodec(self.codec, self.keyring, load_entitlements(topology=topology),
                              agency=self.agency, verifier=verifier)


def report(tag: str) -> MissingPersonReport:
    data = example_json("missing-person-report")
    data["caseId"] = f"case-{tag}"
    data["missingPerson"]["name"] = f"Name{tag}"
    return validate_event(MissingPersonReport, data)


async def publish(host: Host, encoded: EncodedEvent) -> Position:
    producer = AIOKafkaProducer(**host.kafka.aiokafka_kwargs(), acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(TOPIC, encoded.value, key=encoded.key,
                                            headers=encoded.headers)
    finally:
        await producer.stop()
    return TOPIC, sent.partition, sent.offset


async def read_at(kafka: KafkaSettings, position: Position) -> Any:
    """The record at ``position``, read with ``kafka``'s principal."""
    consumer = AIOKafkaConsumer(**kafka.aiokafka_kwargs(), group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(position[0], position[1])
        consumer.assign([tp])
        consumer.seek(tp, position[2])
        return await consumer.getone()
    finally:
        await consumer.stop()
