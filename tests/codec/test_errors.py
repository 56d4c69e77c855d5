"""Bad records get a DecodeError with the right reason; bad events an EncodeError."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from exchange.codec import (
    DecodeError,
    EncodedEvent,
    EncodeError,
    EventCodec,
    MissingHeaderError,
    NotSingleObjectError,
    UnknownFingerprintError,
)
from exchange.errors import ExchangeError
from exchange.schemas import Catalogue

from .conftest import Colour, Ping, Place, Pong

SOURCE = "/agencies/test/app"


def ping(**changes: Any) -> Ping:
    values: dict[str, Any] = {
        "caseId": "C-1",
        "colour": Colour.RED,
        "count": 1,
        "here": Place(lat=1.0, lon=2.0),
        "tags": [],
        "at": datetime(2024, 1, 1, tzinfo=UTC),
    }
    values.update(changes)
    return Ping(**values)


@pytest.fixture
def encoded(codec: EventCodec) -> EncodedEvent:
    return codec.encode(ping(), source=SOURCE)


def reason(codec: EventCodec, value: bytes | None, headers: list[tuple[str, bytes]]) -> str:
    with pytest.raises(DecodeError) as info:
        codec.decode(value, headers)
    assert isinstance(info.value, ExchangeError)
    return info.value.reason


def test_tombstone(codec: EventCodec, encoded: EncodedEvent) -> None:
    assert reason(codec, None, encoded.headers) == "tombstone"
    assert reason(codec, b"", encoded.headers) == "tombstone"


@pytest.mark.parametrize(
    "value", [b"garbage bytes here", b"\xc3\x02" + b"\x00" * 12, b"\xc3\x01\x00"]
)
def test_not_single_object(codec: EventCodec, encoded: EncodedEvent, value: bytes) -> None:
    with pytest.raises(NotSingleObjectError) as info:
        codec.decode(value, encoded.headers)
    assert info.value.reason == "not-single-object"


def test_unknown_fingerprint(codec: EventCodec, encoded: EncodedEvent) -> None:
    value = b"\xc3\x01" + b"\x01" * 8 + encoded.value[10:]
    with pytest.raises(UnknownFingerprintError) as info:
        codec.decode(value, encoded.headers)
    assert info.value.reason == "unknown-fingerprint"
    assert info.value.fingerprint == b"\x01" * 8


def test_truncated_body(codec: EventCodec, encoded: EncodedEvent) -> None:
    assert reason(codec, encoded.value[:-3], encoded.headers) == "avro-decode"
    assert reason(codec, encoded.value[:10], encoded.headers) == "avro-decode"


def test_trailing_bytes(codec: EventCodec, encoded: EncodedEvent) -> None:
    assert reason(codec, encoded.value + b"\x00", encoded.headers) == "avro-decode"


def test_bad_enum_index(codec: EventCodec, catalogue: Catalogue, encoded: EncodedEvent) -> None:
    body = bytearray(encoded.value)
    body[10 + 4] = 0x7E  # caseId "C-1" is 1 + 3 bytes; then the enum index (63: no such symbol)
    assert reason(codec, bytes(body), encoded.headers) == "avro-decode"


def test_invalid_event_names_the_field_without_its_value(
    codec: EventCodec, catalogue: Catalogue, encoded: EncodedEvent
) -> None:
    # body: caseId "C-1" (4 bytes at 10..13), enum index (14), count 1 (15: zig-zag 0x02)
    assert encoded.value[15] == 0x02
    value = encoded.value[:15] + b"\xf4\x03" + encoded.value[16:]  # zig-zag varint of 250
    with pytest.raises(DecodeError) as info:
        codec.decode(value, encoded.headers)
    assert info.value.reason == "invalid-event"
    assert info.value.errors[0]["field"] == "count"
    assert info.value.errors[0]["rule"] == "less_than_equal"
    assert "250" not in str(info.value)


@pytest.mark.parametrize("header", ["ce_id", "ce_source", "ce_type", "ce_time", "ce_specversion"])
def test_missing_header(codec: EventCodec, encoded: EncodedEvent, header: str) -> None:
    headers = [(k, v) for k, v in encoded.headers if k != header]
    with pytest.raises(MissingHeaderError) as info:
        codec.decode(encoded.value, headers)
    assert info.value.reason == "missing-header"
    assert info.value.header == header


def test_type_mismatch(codec: EventCodec, encoded: EncodedEvent) -> None:
    headers = [(k, b"exchange.events.Pong" if k == "ce_type" else v) for k, v in encoded.headers]
    assert reason(codec, encoded.value, headers) == "type-mismatch"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("ce_time", b"yesterday"),
        ("ce_time", b"2024-01-01T00:00:00"),
        ("ce_specversion", b"0.3"),
        ("ce_id", b"\xff\xfe"),
    ],
)
def test_invalid_header(
    codec: EventCodec, encoded: EncodedEvent, header: str, value: bytes
) -> None:
    headers = [(k, value if k == header else v) for k, v in encoded.headers]
    assert reason(codec, encoded.value, headers) == "invalid-header"


def test_optional_headers_default(codec: EventCodec, encoded: EncodedEvent) -> None:
    keep = {"ce_id", "ce_source", "ce_type", "ce_time", "ce_specversion"}
    decoded = codec.decode(encoded.value, [(k, v) for k, v in encoded.headers if k in keep])
    assert decoded.attributes.subject is None
    assert decoded.attributes.dataschema == encoded.attributes.dataschema
    assert decoded.attributes.datacontenttype == "application/avro"


def test_encode_refuses_unpublished_event(codec: EventCodec) -> None:
    with pytest.raises(EncodeError, match="freeze") as info:
        codec.encode(Pong(caseId="C-1"), source=SOURCE)
    assert info.value.event_type == "exchange.events.Pong"


def test_encode_refuses_unknown_model(codec: EventCodec) -> None:
    with pytest.raises(EncodeError, match="not an event model"):
        codec.encode(Place(lat=1, lon=2), source=SOURCE)


def test_encode_refuses_naive_time_and_empty_attributes(codec: EventCodec) -> None:
    with pytest.raises(EncodeError, match="timezone-aware"):
        codec.encode(ping(), source=SOURCE, time=datetime(2024, 1, 1))  # noqa: DTZ001
    with pytest.raises(EncodeError, match="ce_source"):
        codec.encode(ping(), source="")
    with pytest.raises(EncodeError, match="ce_id"):
        codec.encode(ping(), source=SOURCE, id="")


@pytest.mark.parametrize(("field", "value"), [("colour", "PURPLE"), ("count", "many"), ("tags", 3)])
def test_encode_refuses_data_that_does_not_fit(codec: EventCodec, field: str, value: Any) -> None:
    """An unvalidated model (model_construct) holding what the schema cannot."""
    unchecked = Ping.model_construct(**{**dict(ping()), field: value})
    with pytest.raises(EncodeError, match="does not fit") as info:
        codec.encode(unchecked, source=SOURCE)
    assert info.value.event_type == "exchange.events.Ping"
