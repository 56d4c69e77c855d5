"""The worker at several batch sizes (``--batch-sizes``): for each, the latency at the steady
rate, then the throughput on pre-loaded sightings, with the same sender, receiver and broker as
the main phases (a size of 1 handles one event per batch: the per-event cost of the runtime)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.harness import Connection
from benchmarks.worker_throughput.names import BENCH_STATE, INBOX, WORKER_GROUP
from benchmarks.worker_throughput.processes import Offsets, Worker
from benchmarks.worker_throughput.receiver import Receiver
from benchmarks.worker_throughput.report import Figures, latency_figures, throughput_of
from benchmarks.worker_throughput.sender import Sender
from exchange.settings import KafkaSettings


def batch_sweep(
    sizes: Sequence[int], *, log: Path, kafka: Callable[[str], KafkaSettings], police: Connection,
    sender: Sender, offsets: Offsets, run: str, rate: float, seconds: float, records: int,
) -> dict[int, Figures]:
    figures: dict[int, Figures] = {}
    for size in sizes:
        found = figures[size] = Figures()
        worker = Worker(log, kafka("workflows"), BENCH_STATE / f"worker-{run}", batch_max=size)
        expected = round(rate * seconds)
        print(f"batch {size}: latency, worker, {rate:.0f}/s for {seconds:.0f} s ...", flush=True)
        receiver = Receiver(police, INBOX, run=run, tag=f"L{size}", expected=expected,
                            timeout_s=seconds + 120)
        receiver.start()
        worker.start()
        try:
            offsets.wait_caught_up(WORKER_GROUP, worker, 600)
            sent, found.warmup_s = sender.paced(receiver.warm, rate, seconds, worker, f"L{size}")
            latency_figures(found, receiver.result(), expected, sent)
            offsets.wait_caught_up(WORKER_GROUP, worker, 600)
        finally:
            worker.stop()
        print(f"batch {size}: pre-loading {records} sightings, then throughput ...", flush=True)
        sender.preload(f"B{size}", records)
        receiver = Receiver(police, INBOX, run=run, tag=f"B{size}", expected=records,
                            timeout_s=max(300.0, records / 50))
        receiver.start()
        worker.start()
        try:
            received = receiver.result()
            offsets.wait_caught_up(WORKER_GROUP, worker, 600)
        finally:
            worker.stop()
        found.throughput, found.throughput_missing = throughput_of(received, records)
    return figures


def report_sweep(figures: dict[int, Figures], raw_throughput: float, rate: float) -> None:
    print(f"\n== The worker by batch size (latency at {rate:.0f}/s; throughput on pre-loaded "
          "sightings) ==")
    print(f"{'batch max':<12}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'sightings/s':>13}"
          f"{'/ raw':>8}{'missing':>9}")
    for size, f in figures.items():
        ratio = f.throughput / raw_throughput if raw_throughput else float("nan")
        print(f"{size:<12}{f.p50_ms:>8.1f}{f.p99_ms:>8.1f}{f.max_ms:>8.0f}{f.throughput:>13,.0f}"
              f"{ratio:>8.0%}{f.missing + f.throughput_missing:>9}")
    print("targets: one worker >= 40% of the raw loop; p99 < 100 ms at 200/s, < 250 ms at "
          "1,000/s (each row beside them above)")
