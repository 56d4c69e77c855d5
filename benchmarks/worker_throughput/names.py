"""The names the worker benchmark reads and writes: its broker, topics, groups and event ids."""

from __future__ import annotations

from benchmarks.harness import STATE
from benchmarks.worker_throughput.workflow import INBOX, SOURCE_TOPIC, WORKER_GROUP
from exchange.examples.core import example_transport_sighting
from exchange.models.sightings import TransportSighting

__all__ = [
    "BENCH_PORT", "BENCH_STATE", "DEADLINES", "DISPATCH", "INBOX", "SIGHTING", "SOURCE_TOPIC",
    "WORKER_GROUP", "police_sighting", "sent_ns", "sighting_id",
]

BENCH_STATE = STATE / "bench-broker"
BENCH_PORT = 39092
SIGHTING = "exchange.events.TransportSighting"
DISPATCH = "exchange.events.SightingDispatch"
DEADLINES = f"{WORKER_GROUP}-sightings-deadlines-changelog"


def police_sighting() -> TransportSighting:
    """The example sighting moved off the train: one dispatch, to the police (Yanta)."""
    example = example_transport_sighting()
    location = example.location.model_copy(update={"facility": None, "regionCode": "610113"})
    return TransportSighting.model_validate(
        example.model_copy(update={"location": location}).model_dump()
    )


def sighting_id(run: str, tag: str, seq: int, sent_ns: int) -> str:
    return f"B-{run}-{tag}-{seq}-{sent_ns}"


def sent_ns(event_id: bytes) -> int:
    """The scheduled send time carried in a dispatch id (``<sighting id>:<kind>``)."""
    return int(event_id.split(b":", 1)[0].rsplit(b"-", 1)[1])

