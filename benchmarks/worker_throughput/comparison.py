"""Two workers side by side, on the same broker in the same run, at the same offered rate:

- ``--compare-protection`` (issue #14): the protected worker against the unprotected one;
- ``--compare-scrape`` (issue #15): the worker scraped by Prometheus every 5 s (``GET /metrics``
  on its ``--metrics-port``, read whole, by :class:`.processes.Scraper`) against the same worker
  not scraped, both unprotected, so that the difference is the scrape's alone.

Each side, in turn (round by round, so that machine noise hits both alike):

- **unprotected**: transport publishes plain sightings (``Unprotected``), ``exchange worker
  --unprotected`` handles them, police decodes each dispatch;
- **protected**, as in production: transport's Publisher seals each sighting for its topic's
  readers and signs those published within its linger window together (one Merkle-tree
  signature); ``exchange worker`` (no ``--unprotected``) verifies and opens each sighting as the
  workflows agency, seals its table state, seals and signs its dispatch and audits; police
  verifies and opens each dispatch with its :class:`ProtectedCodec`. The run fails if the worker
  quarantined any record (``exchange.quarantine.workflows`` grew) or police could not open one.

Keys: one development host's :class:`FileKeyStore` in ``<bench state>/keys`` holding every
agency's keys (``FileKeyStore(folder).init([...])``); the worker is pointed at it with
``EXCHANGE_KEYS__FOLDER`` (no root is pinned in ``topology/trust.toml``, so a host's folder is
all there is).

Per side and round: (1) latency, sightings paced at ``--rate`` for ``--seconds`` after the
warm-up of :mod:`.receiver`, each timed from its scheduled send until police has opened its
dispatch; (2) maximum throughput on ``--records`` pre-loaded sightings (from the first dispatch
opened to the last). Each side runs as its own faust app (``workflows.bench-<side>-<run>``: a
protected worker's tables are sealed, an unprotected one's are not, so they must never share
one), its group moved to where its phase starts, past the other side's sightings.

Targets (protection): protected >= 60% of unprotected throughput; protected p99 < 250 ms at
200 sightings/s. The scrape has no target: its cost is stated (1 - scraped / not scraped).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import REPO, BenchBroker, connection_of, load_line, quantile, target_line
from benchmarks.worker_throughput.names import BENCH_STATE, INBOX
from benchmarks.worker_throughput.processes import SCRAPE_EVERY_S, Offsets, Worker
from benchmarks.worker_throughput.receiver import Received, Receiver
from benchmarks.worker_throughput.report import throughput_of
from benchmarks.worker_throughput.sender import Sender
from benchmarks.worker_throughput.workflow import AGENCY
from exchange.codec import EventCodec
from exchange.protection.keys import FileKeyStore
from exchange.protection.quarantine import quarantine_topic
from exchange.schemas.catalogue import Catalogue

KINDS = {
    "protection": {
        "unprotected": "worker --unprotected (baseline)",
        "protected": "worker, protected (sealed, signed)",
    },
    "scrape": {
        "unscraped": "worker, not scraped (baseline)",
        "scraped": f"worker, /metrics every {SCRAPE_EVERY_S:.0f} s",
    },
}
"""Per comparison: its two sides, the baseline first."""
QUARANTINE = quarantine_topic(AGENCY)
RATIO_TARGET, P99_TARGET_MS, P99_AT_RATE = 0.60, 250.0, 200.0


@dataclass
class Side:
    """One side's figures over every round."""

    latencies_ms: list[float] = field(default_factory=list)
    written_ms: list[float] = field(default_factory=list)  # see Received.written_ms
    handled_rates: list[float] = field(default_factory=list)
    sent_rates: list[float] = field(default_factory=list)
    warmups_s: list[float] = field(default_factory=list)
    throughputs: list[float] = field(default_factory=list)
    missing: int = 0


@dataclass
class Phase:
    """What a phase needs: the side's worker, sender and receiving agency's keys."""

    side: str
    worker: Worker
    sender: Sender
    keys_dir: Path | None
    app_id: str


class Comparison:
    def __init__(
        self, rate: float, seconds: float, records: int, base_port: int,
        kind: str = "protection",
    ) -> None:
        self.rate, self.seconds, self.records = rate, seconds, records
        self.base_port = base_port
        self.labels = KINDS[kind]
        self.sides = {side: Side() for side in self.labels}

    def run(self, rounds: int) -> dict[str, Side]:
        print(f"starting a fresh broker of the benchmark's own in {BENCH_STATE.relative_to(REPO)}"
              " ...", flush=True)
        broker = BenchBroker.up(BENCH_STATE, self.base_port, fresh=True)
        keys_dir = BENCH_STATE / "keys"  # one development host: every agency's keys
        FileKeyStore(keys_dir).init([agency.id for agency in broker.topology.agencies])
        run = uuid.uuid4().hex[:6]
        log = REPO / ".state" / f"bench-workflows-{run}.log"
        codec = EventCodec(Catalogue.load())
        self.police = connection_of(broker.kafka_as("police"))
        self.offsets = Offsets(broker.admin)
        phases = []
        for side in self.labels:
            keys = keys_dir if side == "protected" else None
            app_id = f"workflows.bench-{side}-{run}"
            scraped_on = self.base_port + 90 if side == "scraped" else None
            phases.append(Phase(
                side,
                Worker(log, broker.kafka_as("workflows"), BENCH_STATE / f"worker-{side}-{run}",
                       keys_dir=keys, app_id=app_id, scraped_on=scraped_on),
                Sender(broker.kafka_as("transport"), codec, broker.topology, run, keys_dir=keys),
                keys, app_id,
            ))
        print(f"run {run}: workers' log {log.relative_to(REPO)}; keys {keys_dir}", flush=True)
        try:
            for number in range(rounds):
                for phase in phases:
                    self.latency(phase, number)
                for phase in phases:
                    self.throughput(phase, number)
        finally:
            for phase in phases:
                phase.worker.stop()
            self.offsets.close()
            broker.cluster.down()
        return self.sides

    def _receiver(self, phase: Phase, tag: str, expected: int, timeout_s: float) -> Receiver:
        receiver = Receiver(self.police, INBOX, run=phase.sender.run, tag=tag, expected=expected,
                            timeout_s=timeout_s, open_as=("police", phase.keys_dir))
        receiver.start()
        return receiver

    def _handled(self, phase: Phase, receiver: Receiver, quarantined: int) -> Received:
        """The receiver's result, once the worker has caught up; raises if a record was
        quarantined by the worker or could not be opened by police."""
        worker = phase.worker
        try:
            received = receiver.result()
            self.offsets.wait_caught_up(phase.app_id, worker, 600)
        finally:
            worker.stop()
        grew = self.offsets.records(QUARANTINE) - quarantined
        if grew:
            raise RuntimeError(f"{phase.side}: the worker quarantined {grew} records "
                               f"(see {QUARANTINE} and {worker.log})")
        if received.refused:
            raise RuntimeError(f"{phase.side}: police could not open {len(received.refused)} "
                               f"dispatches, e.g. {received.refused[0]}")
        return received

    def latency(self, phase: Phase, number: int) -> None:
        tag = f"{phase.side[0].upper()}L{number}"
        expected = round(self.rate * self.seconds)
        print(f"round {number + 1}: latency, {phase.side} worker, {self.rate:.0f}/s for "
              f"{self.seconds:.0f} s ...", flush=True)
        self.offsets.move_group(phase.app_id, self.offsets.end())
        quarantined = self.offsets.records(QUARANTINE)
        receiver = self._receiver(phase, tag, expected, self.seconds + 240)
        phase.worker.start()
        try:
            sent, warmup_s = phase.sender.paced(
                receiver.warm, self.rate, self.seconds, phase.worker, tag
            )
        except BaseException:
            phase.worker.stop()
            raise
        received = self._handled(phase, receiver, quarantined)
        side = self.sides[phase.side]
        side.latencies_ms += received.latencies_ms
        side.written_ms += received.written_ms
        side.missing += expected - received.count
        side.sent_rates.append(sent)
        side.warmups_s.append(warmup_s)
        handled, _ = throughput_of(received, expected)
        side.handled_rates.append(handled)
        print(f"  p50 {quantile(received.latencies_ms, 0.5):.0f} ms, p99 "
              f"{quantile(received.latencies_ms, 0.99):.0f} ms, handled {handled:,.0f}/s, "
              f"warm-up {warmup_s:.0f} s; {load_line()}", flush=True)

    def throughput(self, phase: Phase, number: int) -> None:
        tag = f"{phase.side[0].upper()}T{number}"
        start = self.offsets.end()
        print(f"round {number + 1}: pre-loading {self.records} {phase.side} sightings ...",
              flush=True)
        phase.sender.preload(tag, self.records)
        self.offsets.move_group(phase.app_id, start)
        quarantined = self.offsets.records(QUARANTINE)
        receiver = self._receiver(phase, tag, self.records, max(300.0, self.records / 20))
        phase.worker.start()
        received = self._handled(phase, receiver, quarantined)
        rate, missing = throughput_of(received, self.records)
        side = self.sides[phase.side]
        side.throughputs.append(rate)
        side.missing += missing
        print(f"  throughput, {phase.side} worker: {rate:,.0f} sightings/s; {load_line()}",
              flush=True)


def report(sides: dict[str, Side], rate: float, seconds: float, records: int,
           rounds: int) -> None:
    """Both sides' figures, then the comparison's targets (protection) or cost (scrape)."""
    kind = next(k for k, labels in KINDS.items() if set(labels) == set(sides))
    labels = KINDS[kind]
    title = "the protected worker" if kind == "protection" else "the cost of a 5 s scrape"
    print(f"\n== Issue #{14 if kind == 'protection' else 15}: {title}; sighting -> police inbox "
          f"(opened), latency at {rate:.0f} sightings/s for {seconds:.0f} s x {rounds} per side; "
          f"max throughput on {records} pre-loaded, best of {rounds} ==")
    print(f"{'':<36}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}{'sent/s':>8}"
          f"{'handled/s':>11}{'max sightings/s':>17}")
    for side, label in labels.items():
        s = sides[side]
        print(f"{label:<36}{quantile(s.latencies_ms, 0.5):>10.1f}"
              f"{quantile(s.latencies_ms, 0.95):>10.1f}{quantile(s.latencies_ms, 0.99):>10.1f}"
              f"{max(s.latencies_ms, default=float('nan')):>10.0f}{min(s.sent_rates):>8.0f}"
              f"{min(s.handled_rates):>11,.0f}{max(s.throughputs):>17,.0f}")
        print(f"  {side}: {len(s.latencies_ms)} dispatches timed; warm-ups "
              f"{', '.join(f'{w:.0f}' for w in s.warmups_s)} s; max throughput per round "
              f"{', '.join(f'{t:,.0f}' for t in s.throughputs)}/s; {s.missing} never arrived")
        print(f"  {side}: sent -> dispatch written by the worker p50 "
              f"{quantile(s.written_ms, 0.5):.0f} ms, p99 {quantile(s.written_ms, 0.99):.0f} ms "
              "(the rest: broker, fetch, opening)")
    base_side, measured_side = labels
    base, measured = sides[base_side], sides[measured_side]
    ratio = max(measured.throughputs) / max(base.throughputs)
    p99 = quantile(measured.latencies_ms, 0.99)
    if kind == "scrape":
        print(f"the scrape's cost: the scraped worker has {ratio:.0%} of the unscraped one's "
              f"throughput, {1 - ratio:.0%} less (baseline {max(base.throughputs):,.0f}/s); p99 "
              f"{p99:.0f} ms scraped vs {quantile(base.latencies_ms, 0.99):.0f} ms; "
              f"{load_line()}")
        return
    print(target_line("protected / unprotected worker, sightings/s", f"{ratio:.0%}",
                      ratio >= RATIO_TARGET, f">= {RATIO_TARGET:.0%}",
                      f"unprotected {max(base.throughputs):,.0f}/s; {load_line()}"))
    print(target_line(f"protected sighting -> inbox p99 at {rate:.0f}/s", f"{p99:.0f} ms",
                      p99 < P99_TARGET_MS and rate >= P99_AT_RATE,
                      f"< {P99_TARGET_MS:.0f} ms at {P99_AT_RATE:.0f}/s",
                      f"unprotected p99 {quantile(base.latencies_ms, 0.99):.0f} ms"))
