"""Both versions of the ``exchange.sealed`` header open; version 2 is what is written.

``data/sealed_v1/`` is a rescue record sealed and signed by the version 1 sealer (commit
7cd22ff, before version 2 existed) and frozen with the keys it needs: the public keys of
police (writer), health and reports, and the private ``enc`` keys of health (entitled to the
health group) and reports (a reader of the topic entitled to nothing). Test keys only.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exchange.codec import EventCodec
from exchange.models.examples import example
from exchange.models.registry import spec_for
from exchange.protection.entitlements import Entitlements
from exchange.protection.envelope import SEALED_HEADER
from exchange.protection.exceptions import VerificationError
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import PROTECTED, ProtectedCodec
from exchange.protection.signing import Verifier
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
