"""Migration exceptions: an unsigned event passes only under an exception of trust.toml in force."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from exchange.codec import EventCodec
from exchange.examples import example_json
from exchange.models.exceptions import validate_event
from exchange.models.intermediaries import IntermediaryRevocation
from exchange.protection.entitlements import Entitlements
from exchange.protection.exceptions import VerificationError
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier
from exchange.topology.model import Topology
from exchange.topology.trust import MigrationPolicy, Trust, UnsignedException

TOPIC = "exchange.intermediary-revocation"
SOURCE = "/agencies/market-regulation/licence-register"
LEGACY = UnsignedException(None, "market-regulation", "legacy exporter", date(2027, 3, 31))


def reader(codec: EventCodec, keys: FileKeyStore, entitlements: Entitlements,
           topology: Topology, today: datetime, *exceptions: UnsignedException) -> ProtectedCodec:
    policy = MigrationPolicy(Trust(None, exceptions), lambda: today)
    verifier = Verifier(keys, writers_of=lambda t: topology.topic(t).writers, migration=policy)
    return ProtectedCodec(codec, keys, entitlements, agency="police", verifier=verifier)


@pytest.fixture
def unsigned(codec: EventCodec) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    event = validate_event(IntermediaryRevocation, example_json("intermediary-revocation"))
    encoded = codec.encode(event, source=SOURCE)
    return encoded.key, encoded.value, encoded.headers


def test_unsigned_events_pass_only_while_an_exception_covers_them(
    codec: EventCodec, keys: FileKeyStore, entitlements: Entitlements, topology: Topology,
    unsigned: tuple[bytes, bytes, list[tuple[str, bytes]]],
) -> None:
    key, value, headers = unsigned
    on_last_day = datetime(2027, 3, 31, 23, 59, tzinfo=UTC)
    protected = reader(codec, keys, entitlements, topology, on_last_day, LEGACY)
    opened = protected.decode(key, value, headers, (TOPIC, 0, 1))
    assert opened.signer == "market-regulation"
    assert protected.verifier.unsigned_accepted == 1

    next_day = datetime(2027, 4, 1, tzinfo=UTC)
    expired = reader(codec, keys, entitlements, topology, next_day, LEGACY)
    with pytest.raises(VerificationError, match="ended on 2027-03-31") as refused:
        expired.decode(key, value, headers, (TOPIC, 0, 1))
    assert refused.value.reason == "unsigned"

    by_default = reader(codec, keys, entitlements, topology, on_last_day)
    with pytest.raises(VerificationError, match="no migration exception") as refused:
        by_default.decode(key, value, headers, (TOPIC, 0, 1))
    assert refused.value.reason == "unsigned"

    other_topic = UnsignedException("exchange.sighting", None, "legacy staff app", LEGACY.until)
    elsewhere = reader(codec, keys, entitlements, topology, on_last_day, other_topic)
    with pytest.raises(VerificationError, match="no migration exception"):
        elsewhere.decode(key, value, headers, (TOPIC, 0, 1))


def test_an_exception_does_not_let_an_agency_write_what_it_may_not(
    codec: EventCodec, keys: FileKeyStore, entitlements: Entitlements, topology: Topology,
    unsigned: tuple[bytes, bytes, list[tuple[str, bytes]]],
) -> None:
    key, value, headers = unsigned
    on_topic = UnsignedException("exchange.sighting", None, "legacy staff app", LEGACY.until)
    protected = reader(codec, keys, entitlements, topology, datetime(2027, 1, 1, tzinfo=UTC),
                       on_topic)
    with pytest.raises(VerificationError) as refused:
        protected.decode(key, value, headers, ("exchange.sighting", 0, 7))
    assert refused.value.reason == "not-a-writer"  # market regulation does not write sightings
