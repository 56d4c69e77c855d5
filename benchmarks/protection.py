"""Benchmark of issue #4: the cost of protection on the codec path, both measured in one run.

Per event type, for the example event of ``exchange.examples.core``:

- **plain**: ``EventCodec.encode`` + ``decode`` (what an unprotected agency does);
- **protected, per event** (batch of 1): ``ProtectedCodec.encode`` (sensitive leaves sealed
  under a fresh AES-256-GCM data key per tag group, each key wrapped for every entitled reader
  of the topic, one Ed25519 signature per event) + ``ProtectedCodec.decode`` as an entitled
  reader (signature verified, replay check, groups opened, event validated);
- **protected, batch**: the writer encodes ``--batch`` events per ``encode_batch`` (each sealed as
  above, one Ed25519 signature over their Merkle root, an audit path per event); the reader
  decodes each event alone (leaf + audit path folded to the root; the root's signature is
  checked once and remembered for the rest of the batch).

The three rounds alternate (best of 5 each). Target: protected >= 30% of plain throughput, for
the lowest event type. Usage::

    python benchmarks/protection.py [--records 5000] [--batch 256]
"""

from __future__ import annotations

import argparse
import itertools
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cryptography

from exchange.codec import EventCodec
from exchange.examples import example
from exchange.models.registry import EVENTS
from exchange.protection.entitlements import load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier
from exchange.schemas.catalogue import Catalogue
from exchange.topology.loader import load_topology
from exchange.topology.model import Topic

TARGET = 0.30


def interleaved(rounds: list[Callable[[], None]], repeats: int = 5) -> list[float]:
    """Best time of each round, the rounds run alternately so that the load of this shared VM
    weighs on all alike."""
    times: list[list[float]] = [[] for _ in rounds]
    for _ in range(repeats):
        for round_, found in zip(rounds, times, strict=True):
            started = time.perf_counter()
            round_()
            found.append(time.perf_counter() - started)
    return [min(found) for found in times]


def plain_round(codec: EventCodec, event: Any, source: str, n: int) -> None:
    for _ in range(n):
        sent = codec.encode(event, source=source)
        codec.decode(sent.value, sent.headers)


def protected_round(  # noqa: PLR0917 -- a benchmark loop, positional for the lambda
    writer: ProtectedCodec,
    opener: ProtectedCodec,
    event: Any,
    source: str,
    topic: Topic,
    n: int,
    offsets: Iterator[int],
) -> None:
    for _ in range(n):
        sent = writer.encode(event, source=source, readers=topic.readers)
        opener.decode(sent.key, sent.value, sent.headers, (topic.name, 0, next(offsets)))


def batch_round(  # noqa: PLR0917 -- a benchmark loop, positional for the lambda
    writer: ProtectedCodec,
    opener: ProtectedCodec,
    event: Any,
    source: str,
    topic: Topic,
    n: int,
    batch: int,
    offsets: Iterator[int],
) -> None:
    for start in range(0, n, batch):
        events = [event] * min(batch, n - start)
        for sent in writer.encode_batch(events, source=source, readers=topic.readers):
            opener.decode(sent.key, sent.value, sent.headers, (topic.name, 0, next(offsets)))


def verdict(ratios: list[float]) -> str:
    mean = sum(ratios) / len(ratios)
    met = "met" if min(ratios) >= TARGET else "NOT met"
    return f"mean ratio {mean:.0%}, lowest {min(ratios):.0%} (target >= {TARGET:.0%}: {met})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000, help="events per type per round")
    parser.add_argument("--batch", type=int, default=256, help="events per encode_batch")
    args = parser.parse_args()
    n, size = args.records, args.batch
    topology = load_topology()
    entitlements = load_entitlements(topology=topology)
    codec = EventCodec(Catalogue.load())
    print(
        f"python {platform.python_version()}, cryptography {cryptography.__version__}, "
        f"{n} events per type, best of 5 interleaved;\n"
        "a round = encode + decode (as an entitled reader); per event: one signature per "
        f"event; batch: {size} events per signature, each verified alone"
    )
    print(
        f"{'event':26} {'readers':>7} {'plain/s':>9} {'per-event/s':>12} {'ratio':>6} "
        f"{'batch/s':>9} {'ratio':>6}"
    )
    single_ratios: list[float] = []
    batch_ratios: list[float] = []
    offsets = itertools.count()
    with tempfile.TemporaryDirectory() as folder:
        keys = FileKeyStore(Path(folder))
        keys.init([a.id for a in topology.agencies])
        for name in sorted(EVENTS):
            fullname = EVENTS[name].fullname
            topic = next(t for t in topology.topics if fullname in t.event_types)
            reader = max(topic.readers, key=lambda r: len(entitlements.categories_of(r)))
            event = example(name)
            source = f"/agencies/{topic.owner}/bench"
            writer = ProtectedCodec(codec, keys, entitlements, agency=topic.owner)
            opener = ProtectedCodec(
                codec,
                keys,
                entitlements,
                agency=reader,
                verifier=Verifier(keys, replay_window=8 * n),
            )
            plain_s, single_s, batch_s = interleaved(
                [
                    lambda: plain_round(codec, event, source, n),  # noqa: B023
                    lambda: protected_round(writer, opener, event, source, topic, n, offsets),  # noqa: B023
                    lambda: batch_round(writer, opener, event, source, topic, n, size, offsets),  # noqa: B023
                ]
            )
            single_ratios.append(plain_s / single_s)
            batch_ratios.append(plain_s / batch_s)
            print(
                f"{name:26} {len(topic.readers):>7} {n / plain_s:>9.0f} {n / single_s:>12.0f} "
                f"{plain_s / single_s:>6.0%} {n / batch_s:>9.0f} {plain_s / batch_s:>6.0%}"
            )
    print(f"per event (batch of 1): {verdict(single_ratios)}")
    print(f"batch of {size}: {verdict(batch_ratios)}")


if __name__ == "__main__":
    main()
