"""The fault kinds. Each strikes, records when (wall clock, for the recovery figures), and
returns when the system is whole again (every process running, no partition under-replicated),
so that faults are separate incidents and each one's recovery can be measured.

- ``leader-kill``: kill -9 of the broker leading a partition of ``exchange.sighting`` (the
  busiest topic), restarted after a few seconds;
- ``broker-pause``: SIGSTOP of a broker for longer than the brokers' session timeout
  (``broker.session.timeout.ms``, 9 s), then SIGCONT;
- ``network-cut``: the network of the broker leading a partition of ``exchange.sighting`` cut
  off from every other broker and client (its network namespace's link set down, see
  :mod:`support.nemesis.network`) for longer than the session timeout, then mended;
- ``rolling-restart``: every broker in turn stopped (SIGTERM) and started, waiting for its
  replicas to catch up before the next;
- ``worker-kill``: kill -9 of a worker, restarted;
- ``worker-kill-early``: a restarted worker killed again within seconds of starting, before
  its first commit;
- ``gateway-kill`` / ``file-drop-kill``: kill -9 of the HTTP gateway, of the file-drop
  connector, while they publish, restarted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from kafka.admin import KafkaAdminClient

from support.nemesis.system import Process, System

log = logging.getLogger(__name__)

SESSION_TIMEOUT_S = 9.0  # Kafka's broker.session.timeout.ms default
BUSY_TOPIC = "exchange.sighting"
START_TIMEOUT_S = 600.0  # a broker killed -9 recovers its logs first; slow on a busy machine


@dataclass
class Nemesis:
    system: System
    struck: list[tuple[str, float]] = field(default_factory=list)
    took: dict[str, float] = field(default_factory=dict)  # kind -> seconds until whole again
    turn: int = 0

    @property
    def kinds(self) -> dict[str, Callable[[], Awaitable[None]]]:
        return {
            "leader-kill": self.leader_kill,
            "worker-kill": self.worker_kill,
            "broker-pause": self.broker_pause,
            "gateway-kill": self.gateway_kill,
            "worker-kill-early": self.worker_kill_early,
            "file-drop-kill": self.file_drop_kill,
            "network-cut": self.network_cut,
            "rolling-restart": self.rolling_restart,
        }

    async def strike(self, kind: str) -> None:
        log.warning("nemesis: %s", kind)
        self.turn += 1
        began = time.monotonic()
        await self.kinds[kind]()
        await self.whole()
        self.took[kind] = self.took.get(kind, 0.0) + time.monotonic() - began

    def _mark(self, kind: str) -> None:
        self.struck.append((kind, time.time()))

    # -- brokers ------------------------------------------------------------------------------

    def _leaders(self) -> dict[int, int]:
        admin = KafkaAdminClient(**self.system.cluster.admin_settings().kafka_python_kwargs())
        try:
            partitions = admin.describe_topics([BUSY_TOPIC])[0]["partitions"]
        finally:
            admin.close()
        return {p["partition_index"]: p["leader_id"] for p in partitions}

    def _under_replicated(self) -> int:
        admin = KafkaAdminClient(**self.system.cluster.admin_settings().kafka_python_kwargs())
        try:
            topics = admin.describe_topics()
        finally:
            admin.close()
        return sum(
            1 for t in topics for p in t["partitions"]
            if p["leader_id"] < 0 or len(p["isr_nodes"]) < len(p["replica_nodes"])
        )

    async def leader_kill(self) -> None:
        leaders = await asyncio.to_thread(self._leaders)
        node = leaders[self.turn % len(leaders)]
        self._mark("leader-kill")
        await asyncio.to_thread(self.system.cluster.stop_node, node, hard=True)
        await asyncio.sleep(5)
        await asyncio.to_thread(self.system.cluster.start_node, node, START_TIMEOUT_S)

    async def broker_pause(self) -> None:
        leaders = await asyncio.to_thread(self._leaders)
        node = leaders[(self.turn + 1) % len(leaders)]
        pid = next(s.pid for s in self.system.cluster.status() if s.node_id == node)
        if pid is None:
            raise AssertionError(f"broker {node} is not running")
        self._mark("broker-pause")
        os.killpg(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(SESSION_TIMEOUT_S + 4)
        finally:
            os.killpg(pid, signal.SIGCONT)

    async def network_cut(self) -> None:
        leaders = await asyncio.to_thread(self._leaders)
        node = leaders[(self.turn + 2) % len(leaders)]
        self._mark("network-cut")
        await asyncio.to_thread(self.system.network.cut, node)
        try:
            await asyncio.sleep(SESSION_TIMEOUT_S + 6)
        finally:
            await asyncio.to_thread(self.system.network.mend, node)

    async def rolling_restart(self) -> None:
        self._mark("rolling-restart")
        for node in self.system.cluster.nodes:
            await asyncio.to_thread(self.system.cluster.stop_node, node.node_id)
            await asyncio.to_thread(
                self.system.cluster.start_node, node.node_id, START_TIMEOUT_S
            )
            await self._replicas_caught_up()

    async def _replicas_caught_up(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if await asyncio.to_thread(self._under_replicated) == 0:
                    return
            except Exception as error:  # noqa: BLE001 - the cluster is still settling
                log.info("describe failed while settling: %s", error)
            await asyncio.sleep(1)
        raise AssertionError(f"partitions still under-replicated after {timeout_s} s")

    # -- processes ----------------------------------------------------------------------------

    async def _kill_and_restart(self, kind: str, process: Process, down_s: float) -> None:
        self._mark(kind)
        await asyncio.to_thread(process.kill)
        await asyncio.sleep(down_s)
        process.start()

    async def worker_kill(self) -> None:
        worker = self.system.workers[self.turn % len(self.system.workers)]
        await self._kill_and_restart("worker-kill", worker, 2)

    async def worker_kill_early(self) -> None:
        worker = self.system.workers[(self.turn + 1) % len(self.system.workers)]
        await self._kill_and_restart("worker-kill-early", worker, 1)
        await asyncio.sleep(3)  # starting: joining the group, before its first commit
        await asyncio.to_thread(worker.kill)
        await asyncio.sleep(1)
        worker.start()

    async def gateway_kill(self) -> None:
        await self._kill_and_restart("gateway-kill", self.system.gateway, 2)

    async def file_drop_kill(self) -> None:
        inbox = self.system.inbox
        deadline = time.monotonic() + 30
        while not any(inbox.glob("*.jsonl")) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # mid-batch: while a file is being read
        await self._kill_and_restart("file-drop-kill", self.system.file_drop, 1)

    async def whole(self, timeout_s: float = 120) -> None:
        for process in self.system.processes:
            if not process.alive:
                raise AssertionError(process.exited())
        await self._replicas_caught_up(timeout_s)
