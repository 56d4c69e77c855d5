"""The canary: the whole demo scenario played with canary identities, then searched for.

Every person of the scenario gets a canary name (rare Chinese characters), a canary resident ID
(valid GB 11643, distinctive sequence) and every family contact a canary phone number. While
the demo runs, ``tcpdump`` captures the loopback traffic of the broker's ports. Afterwards each
canary, in every encoding a leak would take (UTF-8, which is also the Avro string's bytes; JSON
``\\u`` escapes; UTF-16; base64), must appear nowhere: not in the broker's data and logs, not in
the worker's state (RocksDB tables) and log, not in the demo's state folder, not in the capture
(its raw bytes and its TCP streams put back together). So that the search cannot pass by
finding nothing anywhere, control values must be found by the same search: this run's case
keys (plaintext record keys) in the broker's data and in the worker's tables, and a value sent
in clear on a captured loopback port in the capture.
"""

from __future__ import annotations

import base64
import json
import random
import socket
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from support.capture import Capture, tcp_streams

from exchange.demo.scenario import run_demo
from exchange.models.identifiers import resident_id_check_char
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.broker

RARE = "鹬鸻鹡鸰鹪鹩鸊鹈鹱鹲鹮鹭鸬鹚鸮鸺鹠鹞鹫鹳"


class Canaries:
    """Canary identities put into every event's personal fields; the case keys kept as
    controls."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.names: list[str] = []
        self.ids: list[str] = []
        self.phones: list[str] = []
        self.keys: set[str] = set()

    def personalise(self, event: BaseModel) -> BaseModel:
        data = event.model_dump(mode="json", exclude_none=True)
        for field in ("caseId", "sightingId"):
            if isinstance(data.get(field), str):
                self.keys.add(data[field])
        self._walk(data)
        return type(event).model_validate(data)

    def _walk(self, node: Any) -> None:
        if isinstance(node, dict):
            if "isMinor" in node and "description" in node:  # a Person
                node["name"] = self._name()
                for document in node.get("documents") or []:
                    if document.get("kind") == "RESIDENT_ID":
                        document["number"] = self._resident_id(document["number"])
            for key, value in node.items():
                if key == "familyContact" and isinstance(value, str):
                    node[key] = self._phone()
                else:
                    self._walk(value)
        elif isinstance(node, list):
            for value in node:
                self._walk(value)

    def _name(self) -> str:
        name = "".join(self.random.sample(RARE, 5))
        self.names.append(name)
        return name

    def _resident_id(self, original: str) -> str:
        # Region and birth date kept (they must agree with the person), a canary sequence of
        # the same sex (the last sequence digit's parity), the check character recomputed.
        first17 = f"{original[:14]}{self.random.randint(10, 99)}{original[16]}"
        number = first17 + resident_id_check_char(first17)
        self.ids.append(number)
        return number

    def _phone(self) -> str:
        phone = f"+86 139 {self.random.randint(1000, 9999)} {self.random.randint(1000, 9999)}"
        self.phones.append(phone)
        return phone

    def values(self) -> list[str]:
        digits = [p.replace(" ", "").removeprefix("+86") for p in self.phones]
        return [*self.names, *self.ids, *self.phones, *digits]


def forms(value: str) -> list[bytes]:
    """The bytes ``value`` would leave behind in a file or a packet, in each likely encoding."""
    raw = value.encode()
    escaped = json.dumps(value)[1:-1]
    found = {raw, escaped.encode(), escaped.upper().replace("\\U", "\\u").encode(),
             value.encode("utf-16-le"), value.encode("utf-16-be")}
    for shift in range(3):  # base64 at each alignment, without the ends that depend on it
        encoded = base64.b64encode(b"\x00" * shift + raw)
        found.add(encoded[4:-4])
    return sorted(found)


def files_under(*roots: Path) -> Iterable[Path]:
    for root in roots:
        yield from (p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def hits(value: str, blobs: Iterable[tuple[str, bytes]]) -> list[str]:
    patterns = forms(value)
    return [name for name, blob in blobs if any(p in blob for p in patterns)]


#: Not searched: jars, and Kafka's offset and time indexes, which hold only offsets, positions
#: and timestamps and are preallocated sparse (10 MiB each: gigabytes of zeros for a test broker).
SKIPPED = {".jar", ".index", ".timeindex"}


def read_all(paths: Iterable[Path]) -> list[tuple[str, bytes]]:
    return [(str(p), p.read_bytes()) for p in paths if p.suffix not in SKIPPED]


async def test_canary_identities_appear_nowhere_in_plaintext(
    provisioned: Any, kafka: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def kafka_as(principal: str) -> KafkaSettings:
        return provisioned.broker.admin.with_principal(
            principal, provisioned.credentials.password_for(principal)
        )

    cluster = kafka.cluster
    assert cluster is not None, "the canary needs the test's own broker (its files)"
    listener = socket.create_server(("127.0.0.1", 0))  # the control's port, inside the capture
    control_port = listener.getsockname()[1]
    ports = [*(n.client_port for n in cluster.nodes), *(n.controller_port for n in cluster.nodes),
             control_port]
    canaries = Canaries(uuid.uuid4().int)
    control = f"CANARY-CONTROL-{uuid.uuid4().hex}"
    state = tmp_path / "state"
    pcap = tmp_path / "loopback.pcap"
    capture = Capture(pcap, ports)
    with listener, capture:
        assert await run_demo(provisioned.topology, kafka_as, state,
                              personalise=canaries.personalise) == 0
        _send_in_clear(control, listener)
    out = capsys.readouterr().out
    assert "\n0 packets dropped by kernel" in f"\n{capture.summary}", capture.summary
    assert "UNEXPECTED" not in out
    assert "(not seen in time)" not in out
    assert len(canaries.names) >= 7, canaries.names  # every person of the scenario
    assert len(canaries.ids) >= 3, canaries.ids
    assert len(canaries.phones) >= 2, canaries.phones

    broker = read_all(files_under(*(n.directory for n in cluster.nodes)))
    worker = read_all(files_under(state / "demo-worker"))
    logs_and_state = read_all(files_under(state))  # worker log, demo hosts, everything
    packets = [(str(pcap), pcap.read_bytes())] + [
        (f"{pcap} stream {i}", s) for i, s in enumerate(tcp_streams(pcap))
    ]
    # Controls: the same search finds what is there in clear.
    assert hits(control, packets), "the capture holds nothing: the search would be vacuous"
    assert all(hits(key, broker) for key in canaries.keys), "case keys not in the broker data"
    assert any(hits(key, worker) for key in canaries.keys), "no case key in the worker's tables"
    # The canaries: nowhere.
    leaks = {
        value: found for value in canaries.values()
        if (found := hits(value, [*broker, *logs_and_state, *packets]))
    }
    assert not leaks, f"canary identities found in plaintext: {leaks}"
    assert not any(value in out for value in canaries.values()), "the demo printed a canary"


def _send_in_clear(control: str, server: socket.socket) -> None:
    """A control value sent unencrypted over loopback, to a port the capture covers."""
    with socket.create_connection(server.getsockname()) as client:
        accepted, _ = server.accept()
        with accepted:
            client.sendall(control.encode())
            assert accepted.recv(len(control)) == control.encode()
