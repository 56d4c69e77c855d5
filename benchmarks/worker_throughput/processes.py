"""The processes measured and the broker side: the real ``exchange worker``, the faust floor
(:mod:`benchmarks.faust_floor`), and the worker group's lag."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer
from kafka import TopicPartition as SyncTopicPartition
from kafka.admin import KafkaAdminClient
from kafka.structs import OffsetAndMetadata

from benchmarks.harness import REPO
from benchmarks.worker_throughput.names import SOURCE_TOPIC
from exchange.settings import KafkaSettings


class Worker:
    """``exchange worker``: unprotected (the baseline) unless ``keys_dir`` names the key folder
    of a development host holding the workflows agency's keys and every writer's and reader's
    (then it verifies, opens, seals and signs, as in production); ``app_id``: its own faust
    app (group and internal topics; default the worker's own, ``workflows.main``)."""

    def __init__(
        self, log: Path, kafka: KafkaSettings, data_dir: Path, *, batch_max: int | None = None,
        keys_dir: Path | None = None, app_id: str | None = None,
        scraped_on: int | None = None,
    ) -> None:
        self.log = log
        self.scraper = Scraper(scraped_on) if scraped_on is not None else None
        """With ``scraped_on`` (a port), the worker serves /metrics there and is scraped every
        :data:`SCRAPE_EVERY_S` while it runs, as Prometheus does."""
        self.batch_max = batch_max
        self.env = {**os.environ, **kafka.environment()}  # the principal and the CA
        if keys_dir is not None:
            self.env["EXCHANGE_KEYS__FOLDER"] = str(keys_dir.resolve())
        self.protected = keys_dir is not None
        self.app_id = app_id
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [str(REPO / ".venv/bin/exchange"), "worker", "--replication", "1",
                "--data-dir", str(self.data_dir),
                *([] if self.protected else ["--unprotected"]),  # the unprotected baseline
                *(["--app-id", self.app_id] if self.app_id else []),
                *(["--batch-max", str(self.batch_max)] if self.batch_max else []),
                *(["--metrics-port", str(self.scraper.port)] if self.scraper else [])]

    def start(self) -> None:
        with self.log.open("ab") as out:
            started = f"{type(self).__name__.lower()} started {datetime.now(UTC).isoformat()}"
            out.write(f"\n==== {started} ====\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                self.command(), cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.env,
            )
        if self.scraper is not None:
            self.scraper.start()

    def stop(self) -> None:
        if self.scraper is not None:
            self.scraper.stop()
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
        super().__init__(log, kafka, data_dir, app_id=app_id)
        self.floor_id, self.out, self.table = app_id, out, table

    def command(self) -> list[str]:
        return [sys.executable, "-m", "benchmarks.faust_floor",
                "--app-id", self.floor_id, "--out", self.out, "--data-dir", str(self.data_dir),
                *(["--table"] if self.table else [])]


class Offsets:
    def __init__(self, admin: KafkaSettings) -> None:
        self.admin_kwargs = admin.kafka_python_kwargs()
        self.admin = KafkaAdminClient(**self.admin_kwargs)
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

    def move_group(self, group: str, to: dict[int, int]) -> None:
        """Commit ``group``'s offsets on the sightings at ``to`` (partition -> offset), while no
        member of it runs: it then starts there, skipping what others' phases left."""
        mover = KafkaConsumer(**self.admin_kwargs, group_id=group, enable_auto_commit=False)
        try:
            mover.assign(self.partitions)
            mover.commit({tp: OffsetAndMetadata(to[tp.partition], "", -1)
                          for tp in self.partitions})
        finally:
            mover.close()

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()


SCRAPE_EVERY_S = 5.0
"""How often a scraped worker's /metrics is read (the scrape interval the issue names)."""


class Scraper:
    """Reads ``http://127.0.0.1:<port>/metrics`` every :data:`SCRAPE_EVERY_S` in a thread, as
    Prometheus would, whole (every byte read); counts the scrapes that answered."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.scrapes = self.failures = self.bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scraper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        url = f"http://127.0.0.1:{self.port}/metrics"
        while not self._stop.wait(SCRAPE_EVERY_S):
            try:
                with urllib.request.urlopen(url, timeout=SCRAPE_EVERY_S) as answer:
                    self.bytes += len(answer.read())
                self.scrapes += 1
            except OSError:  # not serving yet (starting), or gone
                self.failures += 1
