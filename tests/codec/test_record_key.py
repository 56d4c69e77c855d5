"""A record is an event only under its case key: ``decode_record`` refuses any other key."""

from __future__ import annotations

import pytest

from exchange.codec import DecodeError, EventCodec, KeyMismatchError
from exchange.examples import EXAMPLES, example
from exchange.models.registry import EVENTS
from exchange.schemas.catalogue import Catalogue


@pytest.fixture(scope="module")
def real_codec() -> EventCodec:
    return EventCodec(Catalogue.load())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_case_key_is_accepted(name: str, real_codec: EventCodec) -> None:
    encoded = real_codec.encode(example(name), source="/agencies/police/test")
    decoded = real_codec.decode_record(encoded.key, encoded.value, encoded.headers)
    assert EVENTS[name].key(decoded.event) == encoded.key.decode()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("key", [None, b"", b"another-case", "caseId-\u00e9".encode()])
def test_a_null_or_wrong_key_is_a_key_mismatch(
    name: str, key: bytes | None, real_codec: EventCodec
) -> None:
    encoded = real_codec.encode(example(name), source="/agencies/police/test")
    with pytest.raises(KeyMismatchError) as caught:
        real_codec.decode_record(key, encoded.value, encoded.headers)
    error = caught.value
    assert isinstance(error, DecodeError)
    assert error.reason == "key-mismatch"
    expected = encoded.key.decode()
    assert error.expected == expected
    assert f"= {expected!r}" in str(error)
    assert ("null" if key is None else "record key is") in str(error)


def test_a_ce_subject_other_than_the_key_is_a_key_mismatch(real_codec: EventCodec) -> None:
    encoded = real_codec.encode(example("transport-sighting"), source="/agencies/police/test")
    headers = [(k, b"S-OTHER" if k == "ce_subject" else v) for k, v in encoded.headers]
    with pytest.raises(KeyMismatchError, match="ce_subject"):
        real_codec.decode_record(encoded.key, encoded.value, headers)


def test_a_key_that_is_not_the_case_keys_utf8_bytes_is_a_key_mismatch(
    real_codec: EventCodec,
) -> None:
    """Bytes that only decode "with replacement" to the case key hash to another partition."""
    event = example("transport-sighting").model_copy(update={"sightingId": "S-\ufffd"})
    encoded = real_codec.encode(event, source="/agencies/police/test")
    assert real_codec.decode_record(encoded.key, encoded.value, encoded.headers).event == event
    with pytest.raises(KeyMismatchError):
        real_codec.decode_record(b"S-\xff", encoded.value, encoded.headers)
