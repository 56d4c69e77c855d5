"""What the worker's protected mode adds per event, in-process (no broker, no faust).

The steps :mod:`exchange.workflows.runtime.protection` adds to a sighting's handling, each timed
against its unprotected counterpart, best of 5 rounds of ``--records`` events:

- input: ``ProtectedCodec.decode`` as ``workflows`` (signature, replay check, opening,
  validation) against ``EventCodec.decode``;
- the ``delivered`` audit record (JSON + SHA-256; the send itself is not timed);
- output: ``ProtectedEncoder.encode`` of a dispatch (sealed for the topic's readers and signed,
  in the one encode; until issue 12 it was ``WorkerProtection.outgoing``, which decoded the plain
  record and encoded it again, plus a ``routed`` audit record) against the plain
  ``EventCodec.encode``;
- state: one seal + open of a dispatch deadline entry (AES-256-GCM).

Usage::

    python benchmarks/worker_protection.py [--records 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from exchange.codec import CloudEventAttributes, EventCodec
from exchange.examples import example
from exchange.protection.audit import AuditTrail
from exchange.protection.encoder import ProtectedEncoder
from exchange.protection.entitlements import load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier
from exchange.schemas.catalogue import Catalogue
from exchange.topology.loader import load_topology
from exchange.workflows.runtime.protection import StateSealer, WorkerProtection

SIGHTINGS = "exchange.sighting"
DISPATCHES = "exchange.sighting.to.railway-police"


class NoSink:
    async def write(self, key: bytes, value: bytes) -> None:
        return None


def best_us(round_: Callable[[], None], n: int, repeats: int = 5) -> float:
    found = []
    for _ in range(repeats):
        started = time.perf_counter()
        round_()
        found.append(time.perf_counter() - started)
    return min(found) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=2000)
    n = parser.parse_args().records
    topology = load_topology()
    codec = EventCodec(Catalogue.load())
    keys = FileKeyStore(Path(tempfile.mkdtemp()) / "keys")
    keys.init([a.id for a in topology.agencies])
    entitlements = load_entitlements(topology=topology)

    def as_(agency: str) -> ProtectedCodec:
        verifier = Verifier(keys, writers_of=lambda t: topology.topic(t).writers)
        return ProtectedCodec(codec, keys, entitlements, agency=agency, verifier=verifier)

    worker = WorkerProtection(as_("workflows"), keys, topology)
    worker.audit = AuditTrail(NoSink(), "workflows")
    audit = worker.audit
    sighting, dispatch = example("transport-sighting"), example("sighting-dispatch")
    readers = topology.topic(SIGHTINGS).readers
    sealed = [as_("transport").encode(sighting, source="/agencies/transport/app", readers=readers)
              for _ in range(n)]
    plain = [codec.encode(sighting, source="/agencies/transport/app") for _ in range(n)]
    sealer = StateSealer(keys)
    entry = json.dumps(dispatch.model_dump(mode="json")).encode()
    attributes: list[CloudEventAttributes] = [e.attributes for e in plain]

    def plain_decode() -> None:
        for e in plain:
            codec.decode(e.value, e.headers)

    def protected_decode() -> None:
        worker.protected.verifier = Verifier(keys)  # a fresh replay window each round
        for i, e in enumerate(sealed):
            worker.protected.decode(e.key, e.value, e.headers, (SIGHTINGS, 0, i))

    def delivered() -> None:
        async def run() -> None:
            for i, a in enumerate(attributes):
                await audit.record("delivered", a, topic=SIGHTINGS, partition=0, offset=i,
                                   categories=("location", "minor"))
        asyncio.run(run())

    def plain_encode() -> None:
        for _ in range(n):
            codec.encode(dispatch, source="/agencies/workflows/sightings")

    encoder = ProtectedEncoder(as_("workflows"), topology)

    def outgoing() -> None:  # since the house (issue 12): sealed and signed in the one encode
        for _ in range(n):
            encoder.encode(dispatch, topic=DISPATCHES, source="/agencies/workflows/sightings")

    def state() -> None:
        for i in range(n):
            sealer.open("sightings-deadlines", str(i), sealer.seal("sightings-deadlines", str(i),
                                                                   entry))

    print(f"per event, µs, best of 5 rounds of {n}")
    rows = [
        ("input: plain decode (sighting)", plain_decode),
        ("input: protected verify + open + validate", protected_decode),
        ("audit: delivered record (no I/O)", delivered),
        ("output: plain encode (dispatch)", plain_encode),
        ("output: protected encode (seal + sign)", outgoing),
        (f"state: seal + open ({len(entry)} B entry)", state),
    ]
    for name, round_ in rows:
        print(f"{name:45} {best_us(round_, n):8.1f}")


if __name__ == "__main__":
    main()
