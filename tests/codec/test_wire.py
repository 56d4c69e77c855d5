"""The wire format as other tools see it: Avro single-object encoding and CloudEvents headers."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta, timezone
from io import BytesIO
from typing import Any
from uuid import UUID

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.v1.kafka import KafkaMessage, from_binary
from fastavro import schemaless_reader

from exchange.codec import EventCodec
from exchange.schemas import Catalogue

from .conftest import Colour, Ping, Place

BEIJING = timezone(timedelta(hours=8))
SOURCE = "/agencies/railway-police/staff-app"


def ping(**changes: Any) -> Ping:
    values: dict[str, Any] = {
        "caseId": "XA-2024-0001",
        "colour": Colour.GREEN,
        "count": 7,
        "here": Place(lat=34.2583, lon=108.9286),
        "there": None,
        "tags": ["西安北站", "G87"],
        "at": datetime(2024, 5, 1, 8, 30, 15, 123000, tzinfo=BEIJING),
    }
    values.update(changes)
    return Ping(**values)


class _Reader:
    """A minimal Avro binary decoder written from the specification, for cross-checking."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def long(self) -> int:
        shift = result = 0
        while True:
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return (result >> 1) ^ -(result & 1)  # zig-zag

    def string(self) -> str:
        size = self.long()
        text = self.data[self.pos : self.pos + size].decode("utf-8")
        self.pos += size
        return text

    def double(self) -> float:
        (value,) = struct.unpack_from("<d", self.data, self.pos)
        self.pos += 8
        return float(value)

    def string_array(self) -> list[str]:
        items: list[str] = []
        while (count := self.long()) != 0:
            if count < 0:  # a block with its byte size
                count = -count
                self.long()
            items.extend(self.string() for _ in range(count))
        return items


def test_value_is_avro_single_object_encoding(codec: EventCodec, catalogue: Catalogue) -> None:
    encoded = codec.encode(ping(), source=SOURCE)
    version = catalogue.latest("Ping")
    assert encoded.value[:2] == b"\xc3\x01"
    assert encoded.value[2:10] == version.fingerprint
    assert encoded.key == b"XA-2024-0001"

    # fastavro, given the schema, reads the body that follows the 10-byte header
    record = schemaless_reader(BytesIO(encoded.value[10:]), version.schema, None)
    assert record["caseId"] == "XA-2024-0001"
    assert record["colour"] == "GREEN"
    assert record["at"] == datetime(2024, 5, 1, 0, 30, 15, 123000, tzinfo=UTC)

    # and so does a decoder written from the spec
    body = _Reader(encoded.value[10:])
    assert body.string() == "XA-2024-0001"
    assert body.long() == 1  # enum index of GREEN
    assert body.long() == 7
    assert (body.double(), body.double()) == (34.2583, 108.9286)
    assert body.long() == 0  # union branch "null"
    assert body.string_array() == ["西安北站", "G87"]
    assert body.long() == int(
        datetime(2024, 5, 1, 0, 30, 15, 123000, tzinfo=UTC).timestamp() * 1000
    )
    assert body.pos == len(body.data)


def test_headers_follow_the_cloudevents_kafka_binding(
    codec: EventCodec, catalogue: Catalogue
) -> None:
    at = datetime(2024, 5, 1, 9, 0, tzinfo=BEIJING)
    encoded = codec.encode(ping(), source=SOURCE, id="evt-1", time=at)
    headers = dict(encoded.headers)
    fingerprint = catalogue.latest("Ping").fingerprint.hex()
    assert headers == {
        "ce_specversion": b"1.0",
        "ce_id": b"evt-1",
        "ce_source": SOURCE.encode(),
        "ce_type": b"exchange.events.Ping",
        "ce_time": b"2024-05-01T09:00:00+08:00",
        "ce_subject": b"XA-2024-0001",
        "content-type": b"application/avro",
        "ce_dataschema": f"urn:exchange:schema:exchange.events.Ping:v1:{fingerprint}".encode(),
    }
    assert len(encoded.headers) == len(headers)  # no duplicates

    # the CloudEvents SDK (v1 API) reads the record as a CloudEvent
    event = from_binary(
        KafkaMessage(headers=headers, key=encoded.key, value=encoded.value),
        data_unmarshaller=lambda data: data,
    )
    assert event["id"] == "evt-1"
    assert event["source"] == SOURCE
    assert event["type"] == "exchange.events.Ping"
    assert event["subject"] == "XA-2024-0001"
    assert datetime.fromisoformat(event["time"]) == at
    assert event["datacontenttype"] == "application/avro"
    assert event.get_data() == encoded.value

    # and so does its newer core binding
    core = ce_kafka.from_binary(
        ce_kafka.KafkaMessage(headers=headers, key=encoded.key, value=encoded.value), JSONFormat()
    )
    assert core.get_id() == "evt-1"
    assert core.get_source() == SOURCE
    assert core.get_type() == "exchange.events.Ping"
    assert core.get_subject() == "XA-2024-0001"
    assert core.get_time() == at
    assert core.get_dataschema() == headers["ce_dataschema"].decode()
    assert core.get_extension("partitionkey") == "XA-2024-0001"


def test_utc_time_is_written_with_z(codec: EventCodec) -> None:
    at = datetime(2024, 5, 1, 1, 2, 3, tzinfo=UTC)
    encoded = codec.encode(ping(), source=SOURCE, time=at)
    assert dict(encoded.headers)["ce_time"] == b"2024-05-01T01:02:03Z"
    assert codec.decode(encoded.value, encoded.headers).attributes.time == at


def test_round_trip(codec: EventCodec, catalogue: Catalogue) -> None:
    event = ping(there=Place(lat=1.5, lon=2.5))
    encoded = codec.encode(event, source=SOURCE)
    decoded = codec.decode(encoded.value, encoded.headers)
    assert decoded.event == event
    assert isinstance(decoded.event, Ping)
    assert decoded.event.colour is Colour.GREEN
    assert decoded.attributes == encoded.attributes
    assert decoded.writer is decoded.reader is catalogue.latest("Ping")


def test_default_id_and_time(codec: EventCodec) -> None:
    first = codec.encode(ping(), source=SOURCE)
    second = codec.encode(ping(), source=SOURCE)
    assert first.attributes.id != second.attributes.id
    assert str(UUID(first.attributes.id)) == first.attributes.id
    assert UUID(first.attributes.id).version == 4
    assert first.attributes.time.tzinfo is not None
    assert abs(datetime.now(UTC) - first.attributes.time) < timedelta(minutes=1)
