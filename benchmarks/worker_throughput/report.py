"""The worker benchmark's figures and the table it prints."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.harness import load_line, quantile, target_line
from benchmarks.worker_throughput.receiver import WARM_STREAK, WARM_WITHIN_MS, Received

FLOORS = {"floor-send": (False, "send"), "floor-table": (True, "send + table write")}
"""The faust floor's two runs: kind -> (whether it also writes a table entry, label)."""


@dataclass
class Figures:
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    max_ms: float = float("nan")
    measured: int = 0
    missing: int = 0
    sent_rate: float = 0.0
    throughput: float = float("nan")
    throughput_missing: int = 0
    warmup_s: float = float("nan")


def latency_figures(figures: Figures, received: Received, expected: int, rate: float) -> None:
    figures.p50_ms = quantile(received.latencies_ms, 0.50)
    figures.p99_ms = quantile(received.latencies_ms, 0.99)
    figures.max_ms = max(received.latencies_ms, default=float("nan"))
    figures.measured, figures.missing = received.count, expected - received.count
    figures.sent_rate = rate


def throughput_of(received: Received, expected: int) -> tuple[float, int]:
    """Dispatches per second after the first batch seen, until the last."""
    elapsed = (received.last_ns - received.first_ns) / 1e9
    rate = (received.count - received.first_batch) / elapsed if elapsed > 0 else float("nan")
    return rate, expected - received.count


def report(
    figures: dict[str, Figures], own_us: float, rate: float, seconds: float, records: int
) -> None:
    worker, raw = figures["worker"], figures["raw"]
    ratio = worker.throughput / raw.throughput if raw.throughput else float("nan")
    print(f"\n== Issue #3: sighting -> police inbox, one dispatch each; latency at {rate:.0f}"
          f" sightings/s for {seconds:.0f} s; max throughput on {records} pre-loaded ==")
    print(f"{'':<44}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'sent/s':>8}{'sightings/s':>13}")
    labels = {
        "worker": "workflow worker (exchange worker, 1 proc)",
        "raw": "raw aiokafka loop + bare fastavro (1 proc)",
    }
    for kind, label in labels.items():
        f = figures[kind]
        print(f"{label:<44}{f.p50_ms:>8.1f}{f.p99_ms:>8.1f}{f.max_ms:>8.0f}{f.sent_rate:>8.0f}"
              f"{f.throughput:>13,.0f}")
    for kind, (_, what) in FLOORS.items():
        label = f"faust floor: {what} (1 proc)"
        print(f"{label:<44}{'':>32}{figures[kind].throughput:>13,.0f}")
    print(f"{'worker / raw loop (throughput)':<84}{ratio:>8.0%}")
    floor = figures["floor-table"].throughput
    bound = 1 / (1 / floor + own_us / 1e6)
    print(f"{'faust floor (send + table write) / raw loop':<84}{floor / raw.throughput:>8.0%}")
    print(f"the sighting workflow's own code, measured alone: {own_us:.0f} us per sighting; "
          f"on top of the floor that bounds one worker at {bound:,.0f}/s, "
          f"{bound / raw.throughput:.0%} of the raw loop")
    print(f"warm-up at {rate:.0f}/s before the latency was measured (until {WARM_STREAK} "
          f"dispatches in a row came within {WARM_WITHIN_MS:.0f} ms): worker "
          f"{worker.warmup_s:.0f} s, raw loop {raw.warmup_s:.0f} s")
    for kind, f in figures.items():
        if f.missing or f.throughput_missing:
            print(f"  {kind}: {f.missing} latency and {f.throughput_missing} throughput "
                  "dispatches never arrived")
    print(target_line("one worker / raw loop, sightings/s", f"{ratio:.0%}", ratio >= 0.40,
                      ">= 40%", f"raw loop {raw.throughput:,.0f}/s; {load_line()}"))
    limit = latency_limit_ms(rate)
    if limit is not None:
        print(target_line(f"sighting -> inbox p99 at {rate:.0f}/s", f"{worker.p99_ms:.0f} ms",
                          worker.p99_ms < limit, f"< {limit:.0f} ms",
                          f"raw loop p99 {raw.p99_ms:.0f} ms"))


def latency_limit_ms(rate: float) -> float | None:
    """Issue #17's p99 target at ``rate`` sightings/s (200/s: 100 ms, 1,000/s: 250 ms), or None
    at a rate it names no target for."""
    return {200.0: 100.0, 1000.0: 250.0}.get(float(rate))
