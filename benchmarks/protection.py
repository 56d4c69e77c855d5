"""Benchmark of issue #4: the cost of protection on the codec path, both measured in one run.

Per event type, for the example event of ``exchange.models.examples``:

- **plain**: ``EventCodec.encode`` + ``decode`` (what an unprotected agency does);
- **protected**: ``ProtectedCodec.encode`` (sensitive leaves sealed under a fresh AES-256-GCM data
  key per tag group, each key wrapped for every entitled reader of the topic, Ed25519 signature)
  + ``ProtectedCodec.decode`` as an entitled reader (signature verified, replay check, groups
  opened, event validated).

Target: protected >= 30% of plain throughput. Usage::

    python benchmarks/protection.py [--records 5000]
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
from exchange.models.examples import example
from exchange.models.registry import EVENTS
from exchange.protection.entitlements import load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier
from exchange.schemas.catalogue import Catalogue
from exchange.topology.loader import load_topology
from exchange.topology.model import Topic


def interleaved(
    first: Callable[[], None], second: Callable[[], None], repeats: int = 5
) -> tuple[float, float]:
    """Best time of each of two rounds, run alternately so that the load of this shared VM
    weighs on both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for round_, found in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            round_()
            found.append(time.perf_counter() - started)
    return min(times[0]), min(times[1])


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000, help="events per type per round")
    args = parser.parse_args()
    n = args.records
    topology = load_topology()
    entitlements = load_entitlements(topology=topology)
    codec = EventCodec(Catalogue.load())
    print(
        f"python {platform.python_version()}, cryptography {cryptography.__version__}, "
        f"{n} events per type, best of 5 interleaved;\n"
        "a round = encode + decode (as an entitled reader)"
    )
    print(f"{'event':26} {'readers':>7} {'plain/s':>10} {'protected/s':>12} {'ratio':>6}")
    ratios = []
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
                verifier=Verifier(keys, replay_window=4 * n),
            )
            plain_s, protected_s = interleaved(
                lambda: plain_round(codec, event, source, n),  # noqa: B023
                lambda: protected_round(writer, opener, event, source, topic, n, offsets),  # noqa: B023
            )
            plain_rate, protected_rate = n / plain_s, n / protected_s
            ratio = protected_rate / plain_rate
            ratios.append(ratio)
            print(
                f"{name:26} {len(topic.readers):>7} {plain_rate:>10.0f} "
                f"{protected_rate:>12.0f} {ratio:>6.0%}"
            )
    mean = sum(ratios) / len(ratios)
    print(
        f"mean ratio {mean:.0%}, lowest {min(ratios):.0%} (target >= 30%: "
        f"{'met' if min(ratios) >= 0.30 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
