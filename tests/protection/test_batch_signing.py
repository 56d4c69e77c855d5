"""Batch signatures: one signature per batch, every event verifiable alone, every refusal kept."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from exchange.codec import EncodedEvent
from exchange.examples import example
from exchange.protection.exceptions import VerificationError
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import SIG_HEADER
from exchange.topology.model import Topology

Factory = Callable[[str], ProtectedCodec]
TOPIC = "exchange.sighting"
SIZE = 7  # not a power of two: the lone last leaf skips a level


def batch_of(
    protected_as: Factory, topology: Topology, size: int = SIZE, agency: str = "transport"
) -> list[EncodedEvent]:
    return protected_as(agency).encode_batch(
        [example("transport-sighting")] * size,
        source="/agencies/transport/staff-app",
        readers=topology.topic(TOPIC).readers,
    )


def sig(encoded: EncodedEvent) -> bytes:
    return dict(encoded.headers)[SIG_HEADER]


def with_header(encoded: EncodedEvent, name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [*[(k, v) for k, v in encoded.headers if k != name], (name, value)]


def with_sig_parts(encoded: EncodedEvent, **changes: str) -> list[tuple[str, bytes]]:
    """The event's headers with parts of its tree signature replaced (key, size, index, ...)."""
    key_id, tree, size, index, signature, path = sig(encoded).decode().split(":")
    parts = {"key_id": key_id, "tree": tree, "size": size, "index": index}
    parts |= {"signature": signature, "path": path, **changes}
    return with_header(encoded, SIG_HEADER, ":".join(parts.values()).encode())


def refused(
    reader: ProtectedCodec,
    encoded: EncodedEvent,
    headers: list[tuple[str, bytes]] | None = None,
    *,
    key: bytes | None = None,
    value: bytes | None = None,
    offset: int = 100,
) -> VerificationError:
    with pytest.raises(VerificationError) as error:
        reader.decode(
            encoded.key if key is None else key,
            encoded.value if value is None else value,
            encoded.headers if headers is None else headers,
            (TOPIC, 0, offset),
        )
    return error.value


def test_one_signature_per_batch_and_each_event_carries_its_own_proof(
    protected_as, topology
) -> None:
    events = batch_of(protected_as, topology)
    headers = [sig(e).decode().split(":") for e in events]
    assert {tuple(h[:3]) for h in headers} == {("transport.sig.1", "tree", str(SIZE))}
    assert [h[3] for h in headers] == [str(i) for i in range(SIZE)]
    assert len({h[4] for h in headers}) == 1  # one signature
    assert [len(base64.b64decode(h[5])) // 32 for h in headers] == [3, 3, 3, 3, 3, 3, 2]


def test_a_batch_of_one_is_signed_alone_in_the_single_form(protected_as, topology) -> None:
    (one,) = batch_of(protected_as, topology, size=1)
    key_id, signature = sig(one).decode().split(":")
    assert key_id == "transport.sig.1"
    assert len(base64.b64decode(signature)) == 64
    assert protected_as("police").decode(one.key, one.value, one.headers, (TOPIC, 0, 1)).signer
    assert batch_of(protected_as, topology, size=0) == []


def test_every_event_verifies_alone_in_a_fresh_verifier(protected_as, topology) -> None:
    events = batch_of(protected_as, topology)
    for offset, event in enumerate(reversed(events)):
        opened = protected_as("police").decode(
            event.key, event.value, event.headers, (TOPIC, 0, offset)
        )
        assert opened.signer == "transport"
        assert opened.decoded.attributes.id == event.attributes.id


def test_in_any_order_one_verifier_checks_the_signature_once(protected_as, topology) -> None:
    events = batch_of(protected_as, topology, size=33)
    order = list(range(len(events)))
    random.Random(6962).shuffle(order)
    reader = protected_as("police")
    for i in order:
        event = events[i]
        reader.decode(event.key, event.value, event.headers, (TOPIC, 0, i))
    assert reader.verifier.signatures_checked == 1


@pytest.mark.parametrize(
    "header",
    ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type",
     "ce_dataschema", "exchange.sealed"],
)  # fmt: skip
def test_tampering_any_signed_header_of_a_member_is_a_bad_signature(
    protected_as, topology, header: str
) -> None:
    events = batch_of(protected_as, topology)
    reader = protected_as("police")
    first = events[0]
    reader.decode(first.key, first.value, first.headers, (TOPIC, 0, 1))  # the root is cached
    target = events[4]
    value = dict(target.headers)[header]
    tampered = value[:-1] + (b"0" if value[-1:] != b"0" else b"1")
    if header == "ce_source":  # stay with an agency source, so only the signature can refuse
        tampered = value + b"x"
    error = refused(reader, target, with_header(target, header, tampered))
    assert error.reason == "bad-signature"


def test_tampering_a_member_body_or_key_is_a_bad_signature(protected_as, topology) -> None:
    events = batch_of(protected_as, topology)
    reader = protected_as("police")
    for offset, event in enumerate(events[:3]):
        reader.decode(event.key, event.value, event.headers, (TOPIC, 0, offset))
    body = bytearray(events[5].value)
    body[-3] ^= 0x01
    assert refused(reader, events[5], value=bytes(body)).reason == "bad-signature"
    assert refused(reader, events[6], key=events[6].key + b"x").reason == "bad-signature"


def test_a_proof_moved_to_another_member_is_a_bad_signature(protected_as, topology) -> None:
    events = batch_of(protected_as, topology)
    reader = protected_as("police")
    for event in events[1:]:  # cache the root first: the proof still has to fit the record
        headers = with_header(events[0], SIG_HEADER, sig(event))
        assert refused(reader, events[0], headers).reason == "bad-signature"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"index": "1"}, "does not match"),
        ({"index": "6"}, "longer than 2"),  # leaf 6 of 7 has a 2-hash path
        ({"index": "7"}, "not below the tree size"),
        ({"index": "-1"}, "not a decimal"),
        ({"index": "00"}, "leading zeros"),
        ({"size": "8"}, "does not match"),
        ({"size": "6"}, "does not match"),
        ({"size": "1"}, "not in 2.."),
        ({"size": "99999999999"}, "not a decimal"),
        ({"signature": "not base64!"}, "not base64"),
        ({"path": "AAAA"}, "whole number of 32-byte hashes"),
        ({"tree": "tre"}, "the form is"),
    ],
)
def test_a_wrong_index_size_or_malformed_header_is_a_bad_signature(
    protected_as, topology, changes: dict[str, str], says: str
) -> None:
    events = batch_of(protected_as, topology)
    reader = protected_as("police")
    reader.decode(events[2].key, events[2].value, events[2].headers, (TOPIC, 0, 1))
    error = refused(reader, events[0], with_sig_parts(events[0], **changes))
    assert error.reason == "bad-signature"
    assert says in str(error)


def test_a_truncated_or_extended_path_is_a_bad_signature(protected_as, topology) -> None:
    events = batch_of(protected_as, topology)
    reader = protected_as("police")
    path = base64.b64decode(sig(events[0]).decode().split(":")[5])
    for changed, says in ((path[:-32], "shorter than 3"), (path + path[:32], "longer than 3")):
        headers = with_sig_parts(events[0], path=base64.b64encode(changed).decode())
        error = refused(reader, events[0], headers)
        assert (error.reason, says in str(error)) == ("bad-signature", True)


def test_extra_colons_are_malformed(protected_as, topology) -> None:
    events = batch_of(protected_as, topology)
    headers = with_header(events[0], SIG_HEADER, sig(events[0]) + b":x")
    error = refused(protected_as("police"), events[0], headers)
    assert error.reason == "bad-signature"
    assert "the form is" in str(error)


def test_tree_and_single_signatures_cannot_stand_for_each_other(protected_as, topology) -> None:
    events = batch_of(protected_as, topology, size=2)
    reader = protected_as("police")
    key_id, _, _, _, tree_signature, _ = sig(events[0]).decode().split(":")
    single_form = f"{key_id}:{tree_signature}".encode()
    assert refused(reader, events[0], with_header(events[0], SIG_HEADER, single_form)).reason == (
        "bad-signature"
    )
    alone = protected_as("transport").encode(
        example("transport-sighting"),
        source="/agencies/transport/staff-app",
        readers=topology.topic(TOPIC).readers,
    )
    single_signature = sig(alone).decode().split(":")[1]
    path = base64.b64encode(bytes(32)).decode()
    tree_form = f"{key_id}:tree:2:0:{single_signature}:{path}".encode()
    assert refused(reader, alone, with_header(alone, SIG_HEADER, tree_form)).reason == (
        "bad-signature"
    )


def test_a_batch_signed_with_another_agency_key(protected_as, topology, tmp_path: Path) -> None:
    wrong = batch_of(protected_as, topology, agency="railway-police")  # transport's source
    assert refused(protected_as("police"), wrong[3]).reason == "wrong-agency"
    forger = FileKeyStore(tmp_path / "forger")
    forger.init(["transport"])
    genuine = protected_as("transport")
    fake = ProtectedCodec(genuine.codec, forger, genuine.entitlements, agency="transport")
    forged = fake.encode_batch(
        [example("intermediary-revocation")] * 3, source="/agencies/transport/x", readers=[]
    )  # signed as "transport.sig.1", but not with transport's key
    assert sig(forged[1]).startswith(b"transport.sig.1:tree:3:1:")
    reader = ProtectedCodec(
        genuine.codec, genuine.keys, genuine.entitlements, agency="police"
    )  # no topology writers: only the signature can refuse it
    assert refused(reader, forged[1]).reason == "bad-signature"


def test_a_key_revoked_after_its_root_was_cached_is_refused(
    protected_as, topology, keys: FileKeyStore
) -> None:
    events = batch_of(protected_as, topology)
    reader = protected_as("police")
    reader.decode(events[0].key, events[0].value, events[0].headers, (TOPIC, 0, 1))
    keys.revoke("transport.sig.1")
    assert refused(reader, events[1]).reason == "revoked-key"
    assert refused(reader, events[0], offset=1).reason == "revoked-key"  # even a redelivery


def test_a_replayed_batch_member_is_refused_but_a_redelivery_is_not(protected_as, topology) -> None:
    events = batch_of(protected_as, topology)
    reader = protected_as("police")
    for offset, event in enumerate(events):
        reader.decode(event.key, event.value, event.headers, (TOPIC, 0, offset))
    reader.decode(events[3].key, events[3].value, events[3].headers, (TOPIC, 0, 3))
    assert refused(reader, events[3], offset=50).reason == "replayed"


def test_ids_are_given_per_event_or_refused(protected_as, topology) -> None:
    writer = protected_as("transport")
    readers = topology.topic(TOPIC).readers
    events = [example("transport-sighting")] * 2
    encoded = writer.encode_batch(events, source="/agencies/transport/a", readers=readers,
                                  ids=["id-1", "id-2"])  # fmt: skip
    assert [e.attributes.id for e in encoded] == ["id-1", "id-2"]
    with pytest.raises(ValueError, match="1 ids for 2 events"):
        writer.encode_batch(events, source="/agencies/transport/a", readers=readers, ids=["x"])


def test_once_the_batch_is_verified_tampered_members_and_moved_proofs_are_still_refused(
    protected_as, topology
) -> None:
    """The remembered root saves the signature check, never the member's own proof: a warm
    verifier decides exactly as a fresh one (a member with another member's proof is genuine
    content under a wrong proof, and refused either way)."""
    events = batch_of(protected_as, topology, size=9)
    reader = protected_as("police")
    for offset, event in enumerate(events):
        reader.decode(event.key, event.value, event.headers, (TOPIC, 0, offset))
    assert reader.verifier.signatures_checked == 1
    for index, event in enumerate(events):
        body = bytearray(event.value)
        body[-3] ^= 0x01
        assert refused(reader, event, value=bytes(body)).reason == "bad-signature"
        for other in (events[(index + 1) % 9], events[(index + 4) % 9]):
            moved = with_header(event, SIG_HEADER, sig(other))
            assert refused(reader, event, moved).reason == "bad-signature"
