"""Forged, tampered, replayed and unsigned events are refused with the rule they break."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from exchange.codec import EncodedEvent
from exchange.examples import example
from exchange.protection.exceptions import VerificationError
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import SIG_HEADER, agency_of_source
from exchange.topology.model import Topology

Factory = Callable[[str], ProtectedCodec]
TOPIC = "exchange.sighting"


def sighting(protected_as: Factory, topology: Topology, agency: str = "transport") -> EncodedEvent:
    return protected_as(agency).encode(
        example("transport-sighting"),
        source=f"/agencies/{agency}/staff-app",
        readers=topology.topic(TOPIC).readers,
    )


def replace(headers: list[tuple[str, bytes]], name: str, value: bytes | None) -> list:
    out = [(k, v) for k, v in headers if k != name]
    return out if value is None else [*out, (name, value)]


def refused(reader: ProtectedCodec, encoded: EncodedEvent, headers=None, value=None) -> str:
    with pytest.raises(VerificationError) as error:
        reader.decode(
            encoded.key,
            encoded.value if value is None else value,
            encoded.headers if headers is None else headers,
            (TOPIC, 0, 7),
        )
    return error.value.reason


def test_a_signed_event_verifies_and_names_its_agency(protected_as, topology) -> None:
    encoded = sighting(protected_as, topology)
    opened = protected_as("police").decode(
        encoded.key, encoded.value, encoded.headers, (TOPIC, 0, 1)
    )
    assert opened.signer == "transport"


def test_unsigned(protected_as, topology) -> None:
    encoded = sighting(protected_as, topology)
    assert refused(protected_as("police"), encoded, replace(encoded.headers, SIG_HEADER, None)) == (
        "unsigned"
    )


@pytest.mark.parametrize(
    "header", ["ce_time", "ce_subject", "ce_id", "ce_dataschema", "exchange.sealed"]
)
def test_tampered_attributes(protected_as, topology, header: str) -> None:
    encoded = sighting(protected_as, topology)
    value = dict(encoded.headers)[header]
    tampered = value[:-1] + (b"0" if value[-1:] != b"0" else b"1")
    headers = replace(encoded.headers, header, tampered)
    assert refused(protected_as("police"), encoded, headers) == "bad-signature"


def test_tampered_payload(protected_as, topology) -> None:
    encoded = sighting(protected_as, topology)
    value = bytearray(encoded.value)
    value[-3] ^= 0x01
    assert refused(protected_as("police"), encoded, value=bytes(value)) == "bad-signature"


def test_forged_with_a_key_of_the_same_name(protected_as, topology, tmp_path: Path) -> None:
    forger = FileKeyStore(tmp_path / "forger")
    forger.init(["transport"])
    genuine = sighting(protected_as, topology)
    fake = ProtectedCodec(
        protected_as("transport").codec,
        forger,
        protected_as("transport").entitlements,
        agency="transport",
    )
    # the forger cannot seal for real recipients, so it forges an event without sensitive data
    forged = fake.encode(
        example("intermediary-revocation"), source="/agencies/transport/x", readers=[]
    )
    assert dict(forged.headers)[SIG_HEADER].startswith(b"transport.sig.1:")
    assert refused(protected_as("police"), forged) in {"bad-signature", "not-a-writer"}
    headers = replace(genuine.headers, SIG_HEADER, dict(forged.headers)[SIG_HEADER])
    assert refused(protected_as("police"), genuine, headers) == "bad-signature"


def test_signed_by_another_agency_than_its_source(protected_as, topology) -> None:
    encoded = protected_as("railway-police").encode(
        example("transport-sighting"),
        source="/agencies/transport/staff-app",
        readers=topology.topic(TOPIC).readers,
    )
    assert refused(protected_as("police"), encoded) == "wrong-agency"


def test_signed_by_an_agency_that_may_not_write_the_topic(protected_as, topology) -> None:
    encoded = sighting(protected_as, topology, agency="education")
    assert refused(protected_as("police"), encoded) == "not-a-writer"


def test_unknown_and_revoked_keys(protected_as, topology, keys: FileKeyStore) -> None:
    encoded = sighting(protected_as, topology)
    unknown = dict(encoded.headers)[SIG_HEADER].replace(b"transport.sig.1", b"transport.sig.9")
    headers = replace(encoded.headers, SIG_HEADER, unknown)
    assert refused(protected_as("police"), encoded, headers) == "unknown-key"
    keys.revoke("transport.sig.1")
    assert refused(protected_as("police"), encoded) == "revoked-key"


def test_replayed_event_id_is_refused_but_a_redelivery_is_not(protected_as, topology) -> None:
    encoded = sighting(protected_as, topology)
    reader = protected_as("police")
    reader.decode(encoded.key, encoded.value, encoded.headers, (TOPIC, 0, 1))
    reader.decode(encoded.key, encoded.value, encoded.headers, (TOPIC, 0, 1))  # redelivery
    with pytest.raises(VerificationError) as error:
        reader.decode(encoded.key, encoded.value, encoded.headers, (TOPIC, 1, 5))
    assert error.value.reason == "replayed"


def test_agency_of_source() -> None:
    assert agency_of_source("/agencies/railway-police/staff-app") == "railway-police"
    assert agency_of_source("agencies/police") is None
    assert agency_of_source("/other/police") is None


def test_sealed_with_another_agency_key_is_a_bad_envelope(protected_as, topology) -> None:
    encoded = sighting(protected_as, topology)
    sealed = dict(encoded.headers)["exchange.sealed"]
    # version 2: the sender's key id, length-prefixed, right after the version byte
    assert sealed.startswith(b"\x02\x0ftransport.enc.1")
    other = b"\x02\x0cpolice.enc.1" + sealed[len(b"\x02\x0ftransport.enc.1") :]
    # re-sign as transport, so only the envelope check can refuse it
    writer = protected_as("transport")
    headers = [*replace(encoded.headers, "exchange.sealed", other)]
    headers = replace(headers, SIG_HEADER, None)
    headers.append(writer.signer.header(encoded.key, encoded.value, headers))
    assert refused(protected_as("police"), encoded, headers) == "bad-envelope"


def test_one_event_fanned_out_to_several_inboxes_is_not_a_replay(protected_as, topology) -> None:
    """The DNA workflow sends one kinship verification, under one id, to each case owner's
    inbox; a reader of both inboxes (the cold-case ledger) must accept it in each."""
    inboxes = ("exchange.dna-match.to.police", "exchange.dna-match.to.railway-police")
    readers = tuple({*topology.topic(inboxes[0]).readers, *topology.topic(inboxes[1]).readers})
    encoded = protected_as("workflows").encode(
        example("kinship-verification"), source="/agencies/workflows/dna", readers=readers,
    )
    reader = protected_as("workflows")
    for topic in inboxes:
        assert reader.decode(encoded.key, encoded.value, encoded.headers, (topic, 0, 3)).signer \
            == "workflows"
    with pytest.raises(VerificationError) as error:  # the same inbox at another offset: replayed
        reader.decode(encoded.key, encoded.value, encoded.headers, (inboxes[0], 0, 4))
    assert error.value.reason == "replayed"
