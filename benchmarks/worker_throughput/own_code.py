"""The sighting workflow's own code, timed alone: no broker, no faust."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from benchmarks.worker_throughput.names import police_sighting
from benchmarks.worker_throughput.workflow import plan_dispatches
from exchange.codec import EventCodec
from exchange.models.sightings import TransportSighting
from exchange.rules import deadlines
from exchange.rules.jurisdiction import load_jurisdiction


def own_code_us(codec: EventCodec, rounds: int = 3000) -> float:
    """Microseconds per sighting of the sighting workflow's own work, measured alone (no
    broker, no faust): decode and validate the sighting, plan its dispatch, encode it, build
    its deadline entry. Inside the worker every step costs more than here, so the bound this
    gives is generous."""
    encoded = codec.encode(police_sighting(), source="/agencies/transport/bench", id="bench")
    jurisdiction = load_jurisdiction()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            decoded = codec.decode(encoded.value, encoded.headers)
            sighting = decoded.event
            if not isinstance(sighting, TransportSighting):
                raise TypeError(type(sighting))
            for dispatch in plan_dispatches(sighting, "bench", jurisdiction, datetime.now(UTC)):
                codec.encode(dispatch, source="/agencies/workflows/sightings",
                             id=dispatch.dispatchId)
                deadlines.pending(dispatch, "/agencies/transport/bench").dumps()
        best = min(best, (time.perf_counter() - started) / rounds * 1e6)
    return best
