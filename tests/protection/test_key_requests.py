"""Key requests: proof of possession, one agency's keys only, the latest request per key."""

from __future__ import annotations

import json
from pathlib import Path

from exchange.protection.key_requests import check_requests, make_request
from exchange.protection.keys import FileKeyStore


def requests_of(store: FileKeyStore, agency: str) -> list[tuple[bytes, bytes]]:
    signer = store.active(agency, "sig").key_id
    return [
        (k.key_id.encode(), make_request(store, k, k.key_id if k.kind == "sig" else signer))
        for k in store.keys_of(agency)
    ]


def test_an_agencys_own_signed_requests_are_accepted(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    store.init(["police"])
    checked = check_requests("police", requests_of(store, "police"))
    assert [k.key_id for k in checked.accepted] == ["police.enc.1", "police.sig.1"]
    assert checked.refused == []
    assert checked.accepted[0].public == store.info("police.enc.1").public


def test_requests_for_another_agency_or_with_a_bad_signature_are_refused(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    store.init(["police", "health"])
    on_police_topic = requests_of(store, "health")  # health's keys on police's topic
    checked = check_requests("police", on_police_topic)
    assert checked.accepted == []
    assert all("only police's own keys" in e.problem for e in checked.refused)
    key, value = requests_of(store, "police")[1]
    data = json.loads(value)
    data["public"] = json.loads(requests_of(store, "health")[1][1])["public"]  # swapped key
    checked = check_requests("police", [(key, json.dumps(data).encode())])
    assert checked.accepted == []
    assert checked.refused[0].key_id == "police.sig.1"
    enc_only = [r for r in requests_of(store, "police") if r[0] == b"police.enc.1"]
    checked = check_requests("police", enc_only)
    assert "a key not requested" in checked.refused[0].problem
    sig = store.info("police.sig.1")
    checked = check_requests("police", enc_only, {"police.sig.1": sig.public})
    assert [k.key_id for k in checked.accepted] == ["police.enc.1"]
