"""The processes measured and the broker side: the real ``exchange worker``, the faust floor
(:mod:`benchmarks.faust_floor`), and the worker group's lag."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer
from kafka import TopicPartition as SyncTopicPartition
from kafka.admin import KafkaAdminClient

from benchmarks.harness import REPO
from benchmarks.worker_throughput.names import SOURCE_TOPIC
from exchange.settings import KafkaSettings


class Worker:
    def __init__(
        self, log: Path, kafka: KafkaSettings, data_dir: Path, *, batch_max: int | None = None
    ) -> None:
        self.log = log
        self.batch_max = batch_max
        self.env = {**os.environ, **kafka.environment()}  # the principal and the CA
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [str(REPO / ".venv/bin/exchange"), "worker", "--replication", "1",
                "--data-dir", str(self.data_dir), "--unprotected",  # the unprotected baseline
                *(["--batch-max", str(self.batch_max)] if self.batch_max else [])]

    def start(self) -> None:
        with self.log.open("ab") as out:
            started = f"{type(self).__name__.lower()} started {datetime.now(UTC).isoformat()}"
            out.write(f"\n==== {started} ====\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                self.command(), cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.env,
            )

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the worker exited ({self.process.returncode}); see {self.log}")


class Floor(Worker):
    """The faust floor (``benchmarks/faust_floor.py``): one send, and with ``table`` one table
    write, per sighting; nothing else."""

    def __init__(
        self, log: Path, kafka: KafkaSettings, data_dir: Path, *, app_id: str, out: str,
        table: bool,
    ) -> None:
        super().__init__(log, kafka, data_dir)
        self.app_id, self.out, self.table = app_id, out, table

    def command(self) -> list[str]:
        return [sys.executable, "-m", "benchmarks.faust_floor",
                "--app-id", self.app_id, "--out", self.out, "--data-dir", str(self.data_dir),
                *(["--table"] if self.table else [])]


class Offsets:
    def __init__(self, admin: KafkaSettings) -> None:
        self.admin = KafkaAdminClient(**admin.kafka_python_kwargs())
        self.consumer = KafkaConsumer(**admin.kafka_python_kwargs())
        partitions = self.consumer.partitions_for_topic(SOURCE_TOPIC) or set()
        self.partitions = [SyncTopicPartition(SOURCE_TOPIC, p) for p in sorted(partitions)]

    def end(self) -> dict[int, int]:
        return {tp.partition: o for tp, o in self.consumer.end_offsets(self.partitions).items()}

    def records(self, topic: str) -> int:
        partitions = self.consumer.partitions_for_topic(topic) or set()
        ends = self.consumer.end_offsets([SyncTopicPartition(topic, p) for p in partitions])
        return sum(ends.values())

    def lag(self, group: str) -> int:
        committed = self.admin.list_group_offsets({group: self.partitions}).get(group, {})
        end = self.end()
        return sum(
            end[tp.partition] - max(getattr(committed.get(tp), "offset", 0), 0)
            for tp in self.partitions
        )

    def wait_caught_up(self, group: str, worker: Worker | None, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while (lag := self.lag(group)) > 0:
            if worker is not None:
                worker.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"group {group} still {lag} records behind after {timeout_s}s")
            time.sleep(0.5)

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()
