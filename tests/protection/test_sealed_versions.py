"""Both versions of the ``exchange.sealed`` header open; version 2 is what is written.

``data/sealed_v1/`` is a rescue record sealed and signed by the version 1 sealer (commit
7cd22ff, before version 2 existed) and frozen with the keys it needs: the public keys of
police (writer), health and reports, and the private ``enc`` keys of health (entitled to the
health group) and reports (a reader of the topic entitled to nothing). Test keys only.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from exchange.codec import EventCodec
from exchange.examples import example
from exchange.models.registry import spec_for
from exchange.protection.entitlements import Entitlements
from exchange.protection.envelope import SEALED_HEADER
from exchange.protection.exceptions import VerificationError
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import PROTECTED, ProtectedCodec
from exchange.protection.sealed import VERSION_2, FormatError, pack_values, read, unpack_values
from exchange.protection.signing import SIG_HEADER, Verifier
from exchange.topology.model import Topology

Factory = Callable[[str], ProtectedCodec]
FROZEN = Path(__file__).parent / "data" / "sealed_v1"
NAME = '张小红 "引号" \\ 反斜杠'


def frozen_record() -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    record = json.loads((FROZEN / "record.json").read_text(encoding="utf-8"))
    headers = [(name, base64.b64decode(value)) for name, value in record["headers"]]
    return record["topic"], record["key"].encode(), base64.b64decode(record["value"]), headers


def frozen_reader(codec: EventCodec, entitlements: Entitlements, agency: str) -> ProtectedCodec:
    keys = FileKeyStore(FROZEN / "keys")
    return ProtectedCodec(codec, keys, entitlements, agency=agency, verifier=Verifier(keys))


@pytest.mark.parametrize("agency", ["health", "reports"])
def test_a_frozen_version_1_header_still_opens(
    codec: EventCodec, entitlements: Entitlements, agency: str
) -> None:
    topic, key, value, headers = frozen_record()
    assert dict(headers)[SEALED_HEADER].startswith(b'{"v":1,')
    expected = json.loads((FROZEN / "expected.json").read_text(encoding="utf-8"))[agency]
    opened = frozen_reader(codec, entitlements, agency).decode(key, value, headers, (topic, 0, 7))
    assert opened.view() == expected["view"]
    assert list(opened.protected) == expected["protected"]
    assert list(opened.opened.paths) == expected["opened"]
    if agency == "reports":  # entitled to nothing: every sealed path is protected
        assert not opened.opened.paths
        assert opened.view()["victims"][0]["person"]["name"] == PROTECTED
    else:
        assert "victims.0.situationDetails" in opened.opened.paths


def test_a_tampered_version_1_header_is_refused(
    codec: EventCodec, entitlements: Entitlements
) -> None:
    topic, key, value, headers = frozen_record()
    sealed = dict(headers)[SEALED_HEADER]
    tampered = [
        (n, sealed.replace(b'"v":1', b'"v":1 ') if n == SEALED_HEADER else v) for n, v in headers
    ]
    with pytest.raises(VerificationError) as refused:
        frozen_reader(codec, entitlements, "health").decode(key, value, tampered, (topic, 0, 7))
    assert refused.value.reason == "bad-signature"


def rescue_with_chinese_name() -> Any:
    data = example("rescue").model_dump(mode="json")
    data["victims"][0]["person"]["name"] = NAME
    return spec_for("rescue").model.model_validate(data)


def test_a_version_2_header_opens_for_the_entitled_reader_only(
    protected_as: Factory, topology: Topology
) -> None:
    """The emergency alert's CAP document (Chinese text) is sealed as UTF-8 bytes: the entitled
    reader gets it back exactly, a reader entitled to nothing sees ``<protected>``, and neither
    the record nor the header carries it in clear."""
    topic = topology.topic("exchange.public-alert")
    event = example("emergency-alert")
    writer = protected_as(topic.owner)
    [encoded] = writer.encode_batch(
        [event], source="/agencies/workflows/test", readers=("public-alerts",)
    )
    header = dict(encoded.headers)[SEALED_HEADER]
    assert header[0] == VERSION_2
    secret = "儿童失踪紧急寻人".encode()
    assert secret in event.cap.encode()
    assert secret not in header
    assert secret not in encoded.value
    opened = protected_as("public-alerts").decode(
        encoded.key, encoded.value, encoded.headers, (topic.name, 0, 1)
    )
    assert opened.decoded.event == event
    assert not opened.protected
    other = protected_as("police").decode(
        encoded.key, encoded.value, encoded.headers, (topic.name, 0, 1)
    )
    assert not other.opened.paths
    assert set(other.protected) == {"cap", "centreLat", "centreLon"}
    view = other.view()
    assert view["cap"] == PROTECTED
    assert "儿童失踪" not in json.dumps(view, ensure_ascii=False)


def sealed_rescue(protected_as: Factory, topology: Topology) -> tuple[str, Any]:
    topic = topology.topic("exchange.rescue")
    encoded = protected_as("police").encode(
        rescue_with_chinese_name(), source="/agencies/police/test", readers=topic.readers
    )
    return topic.name, encoded


def with_header(
    headers: list[tuple[str, bytes]], name: str, value: bytes
) -> list[tuple[str, bytes]]:
    return [(n, value if n == name else v) for n, v in headers]


def flipped(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes((raw[at] ^ 0x01,)) + raw[at + 1 :]


@pytest.mark.parametrize("where", ["sender", "tags", "ciphertext", "last byte", "appended"])
def test_a_tampered_version_2_header_is_refused(
    protected_as: Factory, topology: Topology, where: str
) -> None:
    """Any change of the header breaks the signature (it covers the header's bytes); re-signed
    by the same agency, a change of the ciphertext, the associated data or the layout is still
    refused when a reader opens it (a reader does not look at the groups it cannot open)."""
    topic, encoded = sealed_rescue(protected_as, topology)
    header = dict(encoded.headers)[SEALED_HEADER]
    sealed = read(header)
    first = bytes(sealed.groups[0].data)
    tags = ",".join(sealed.groups[0].tags).encode()
    at = {
        "sender": 3,
        "tags": header.index(tags),
        "ciphertext": header.index(first) + 5,
        "last byte": len(header) - 1,
    }.get(where)
    tampered = header + b"\x00" if at is None else flipped(header, at)
    headers = with_header(encoded.headers, SEALED_HEADER, tampered)
    reader = protected_as("civil-affairs")  # entitled to every group of a rescue
    assert not reader.decode(encoded.key, encoded.value, encoded.headers, (topic, 0, 0)).protected
    with pytest.raises(VerificationError) as refused:
        reader.decode(encoded.key, encoded.value, headers, (topic, 0, 0))
    assert refused.value.reason == "bad-signature"
    signer = protected_as("police").signer
    resigned = [(n, v) for n, v in headers if n != SIG_HEADER]
    resigned.append(signer.header(encoded.key, encoded.value, resigned))
    with pytest.raises(VerificationError) as refused:
        reader.decode(encoded.key, encoded.value, resigned, (topic, 0, 0))
    assert refused.value.reason == "bad-envelope"


@pytest.mark.parametrize(
    "header",
    [b"", b"\x03police.enc.1", b"\x02\x0cpolice.enc", b"\x02\x0cpolice.enc.1\x01\x05", b"[1]"],
)
def test_a_malformed_header_is_a_format_error(header: bytes) -> None:
    with pytest.raises(FormatError):
        read(header)


class Kind(StrEnum):
    GIRL = "girl"


def test_values_of_every_kind_round_trip() -> None:
    values: list[Any] = [
        '王小雨 "引号" \\ \n',
        "",
        "\ud800 lone surrogate",
        0,
        -(2**70),
        34.224,
        float("nan"),
        float("inf"),
        True,
        None,
        ["a", 1],
        {"k": "值"},
    ]
    back = unpack_values(pack_values(values))
    assert back[:6] == values[:6]
    assert math.isnan(back[6])
    assert back[7:] == values[7:]
    assert [type(v) for v in back] == [type(v) for v in values]
    packed = pack_values([date(2025, 5, 18), b"\x00\xff", Kind.GIRL, False])
    assert unpack_values(packed) == ["2025-05-18", "AP8=", "girl", False]
    assert [type(v) for v in unpack_values(packed)] == [str, str, str, bool]
    with pytest.raises(FormatError):
        unpack_values(pack_values(["abc"])[:-1])
    with pytest.raises(FormatError):
        unpack_values(b"x\x00\x00\x00\x00")
