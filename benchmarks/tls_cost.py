"""What TLS alone costs: the same records published and consumed over a plaintext
listener and over the TLS listener of one broker, both unprotected (no signatures, no sealing).

The benchmark starts a broker of its own (``.state/bench-tls``, ports ``--base-port`` ..+2)
with the plaintext listener opened on purpose (``insecure_plaintext_listener``: SASL_PLAINTEXT,
SCRAM still required) beside its TLS listener (SASL_SSL, SCRAM-SHA-512 over TLS 1.3, the CA and
host name verified). Each round runs, interleaved so that machine noise hits both alike:

- ``raw``: raw aiokafka producing pre-encoded bus records, a consumer process reading them
  undecoded (the transport alone);
- ``bus``: ``Publisher`` (encode, acks=all, idempotent) then ``EventConsumer`` (decode,
  validate, commit per batch) in its own process, as in ``benchmarks/codec_and_bus.py``.

It prints events/s per path and listener, best of ``--rounds``, and TLS / plaintext.

Usage::

    python -m benchmarks.tls_cost [--records 20000] [--rounds 3] [--base-port 39392]
"""

from __future__ import annotations

import argparse
import os
import platform
import uuid

from kafka.admin import KafkaAdminClient, NewTopic

from benchmarks.codec_and_bus import KINDS, _pipeline
from benchmarks.harness import STATE as BENCH_STATE
from exchange.broker.local import LocalCluster
from exchange.codec import EventCodec
from exchange.examples import example_json
from exchange.models.exceptions import validate_event
from exchange.models.registry import EVENTS
from exchange.schemas.catalogue import Catalogue
from exchange.settings import KafkaSettings

STATE = BENCH_STATE / "bench-tls"
PATHS = ("raw", "bus")


def measure(
    listeners: dict[str, KafkaSettings], admin: KafkaSettings, codec: EventCodec,
    records: int, rounds: int,
) -> dict[tuple[str, str], float]:
    event = validate_event(EVENTS["transport-sighting"].model, example_json("transport-sighting"))
    values = []
    for _ in range(records):
        encoded = codec.encode(event, source="/bench")
        values.append((encoded.key, encoded.value, encoded.headers))
    best = {(path, listener): 0.0 for path in PATHS for listener in listeners}
    client = KafkaAdminClient(**admin.kafka_python_kwargs())
    try:
        for number in range(rounds):
            for path in PATHS:
                for listener, settings in listeners.items():
                    topic = f"bench.tls.{path}.{uuid.uuid4().hex[:6]}"
                    client.create_topics([NewTopic(t, 3, 1) for t in (topic, topic + ".dlq")])
                    try:
                        rate = _pipeline(path, settings, codec, topic, values)
                    finally:
                        client.delete_topics([topic, topic + ".dlq"])
                    print(f"  round {number + 1}: {path:<4} {listener:<9} {rate:>10,.0f} events/s",
                          flush=True)
                    best[path, listener] = max(best[path, listener], rate)
    finally:
        client.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="events per run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (best is reported)")
    parser.add_argument("--base-port", type=int, default=39392, help="the broker's first port")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, python "
          f"{platform.python_version()}; load average {os.getloadavg()[0]:.2f}")
    cluster = LocalCluster(STATE, base_port=args.base_port, insecure_plaintext_listener=True)
    cluster.reset()
    cluster.up()
    try:
        admin = cluster.admin_settings()
        listeners = {"plaintext": cluster.insecure_settings(), "tls": admin}
        print(f"\n== TLS cost: publish -> consume, {args.records} transport sightings, "
              f"3 partitions, acks=all, SCRAM-SHA-512; plaintext "
              f"{listeners['plaintext'].bootstrap_servers} vs TLS {admin.bootstrap_servers}; "
              f"best of {args.rounds} ==")
        best = measure(listeners, admin, EventCodec(Catalogue.load()), args.records,
                       args.rounds)
    finally:
        cluster.down()
    print(f"\n{'path':<52}{'plaintext/s':>12}{'TLS/s':>10}{'TLS/plain':>11}")
    for path in PATHS:
        plain, tls = best[path, "plaintext"], best[path, "tls"]
        print(f"{KINDS[path]:<52}{plain:>12,.0f}{tls:>10,.0f}{tls / plain:>11.0%}")
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
