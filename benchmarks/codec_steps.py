"""The codec's cost per step, per event (``python -m benchmarks.codec_steps``).

Each step of :meth:`EventCodec.encode` and :meth:`EventCodec.decode` is timed alone, over every
event type of the registry, in microseconds per event (the mean over the types, and the worst
type), beside bare fastavro's write and read of the same record: where the codec's time goes
beyond the Avro work itself.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from fastavro import schemaless_reader, schemaless_writer

from benchmarks.harness import machine_line
from exchange.codec import EventCodec
from exchange.codec.cloudevents import new_event_id, parse_attributes, rfc3339
from exchange.examples import example_json
from exchange.models.exceptions import validate_event
from exchange.models.registry import EVENTS
from exchange.schemas.catalogue import Catalogue

ROUNDS = 2000


def per_call_us(step: Callable[[], object], rounds: int = ROUNDS) -> float:
    """Best of three runs of ``rounds`` calls, in microseconds per call."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            step()
        best = min(best, time.perf_counter() - started)
    return best / rounds * 1e6


def steps_of(codec: EventCodec, catalogue: Catalogue, name: str) -> dict[str, float]:
    spec = EVENTS[name]
    event = validate_event(spec.model, example_json(name))
    version = catalogue.latest(spec.fullname)
    parsed = version.parsed
    encoded = codec.encode(event, source="/bench")
    found = dict(encoded.headers)
    raw = codec.read(encoded.value, encoded.headers)  # fills the reader cache
    reader = codec._readers[version.fingerprint]
    writer = codec._writers[type(event)]
    data = event.model_dump(warnings=False)
    hinted = writer.hinter(data) if writer.hinter is not None else data
    body = encoded.value
    now = datetime.now(UTC)

    def avro_write() -> None:
        schemaless_writer(io.BytesIO(), parsed, hinted)

    def avro_read() -> None:
        schemaless_reader(io.BytesIO(body[10:]), parsed, None)

    def hint() -> None:
        if writer.hinter is not None:
            writer.hinter(event.model_dump(warnings=False))

    return {
        "encode: whole": per_call_us(lambda: codec.encode(event, source="/bench")),
        "  model_dump": per_call_us(lambda: event.model_dump(warnings=False)),
        "  union hints (with dump)": per_call_us(hint),
        "  Avro write (fastavro)": per_call_us(avro_write),
        "  ce_id (uuid4 text)": per_call_us(new_event_id),
        "  ce_time (now + RFC 3339)": per_call_us(lambda: rfc3339(datetime.now(UTC))),
        "  case key": per_call_us(lambda: writer.spec.key(event)),
        "decode: whole": per_call_us(lambda: codec.decode(body, encoded.headers)),
        "  read (headers + Avro)": per_call_us(lambda: codec.read(body, encoded.headers)),
        "  Avro read (fastavro)": per_call_us(avro_read),
        "  CloudEvents attributes": per_call_us(
            lambda: parse_attributes(found, reader.ce_type, reader.dataschema)
        ),
        "  model validation": per_call_us(lambda: codec.validate(raw, raw.record)),
        "(rfc3339 alone)": per_call_us(lambda: rfc3339(now)),
    }


def main() -> None:
    print(machine_line())
    catalogue = Catalogue.load()
    codec = EventCodec(catalogue)
    rows: dict[str, list[float]] = {}
    names = sys.argv[1:] or list(EVENTS)
    for name in names:
        for step, value in steps_of(codec, catalogue, name).items():
            rows.setdefault(step, []).append(value)
    print(f"\n== Codec per step, µs per event, over {len(names)} event types ==")
    print(f"{'step':<30}{'mean':>9}{'worst':>9}")
    for step, values in rows.items():
        print(f"{step:<30}{sum(values) / len(values):>9.1f}{max(values):>9.1f}")


if __name__ == "__main__":
    main()
