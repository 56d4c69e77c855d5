"""One nemesis run: the system up, the load and the faults at once, then the load stops, the
system settles, every output is read and checked; the figures for RELIABILITY.md.

``PYTHONPATH=tests python -m support.nemesis.run --events 100000 --faults 30`` is the soak
(``make soak``); ``tests/nemesis/test_short_run.py`` runs a short one in ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from exchange.cap.parse import parse_cap
from exchange.codec import EventCodec
from exchange.models.missing_persons import EmergencyAlert
from exchange.models.sightings import SightingDispatch
from exchange.schemas.catalogue import Catalogue
from support.nemesis.checker import (
    AlertMessage,
    AlertVerdict,
    Dispatch,
    Verdict,
    check,
    check_alerts,
    lost_after,
    percentile,
    recovery_times,
)
from support.nemesis.faults import Nemesis
from support.nemesis.load import Load
from support.nemesis.system import REPO, System

log = logging.getLogger(__name__)

INBOXES = ("exchange.sighting.to.police", "exchange.sighting.to.railway-police")
ALERTS = ("exchange.public-alert", "exchange.alert.to.transport")
DEAD_LETTERS = ("exchange.deadletter.workflows", "exchange.deadletter.transport")


@dataclass(frozen=True)
class Plan:
    """How big a run is: ``rate`` inputs per second in all (a third per entry point)."""

    events: int = 3000
    faults: int = 7
    rate: float = 24.0
    poison: int = 12
    cases: int = 10  # missing-minor reports with a public alert, spread over the load
    settle_s: float = 240.0


@dataclass
class Outcome:
    verdict: Verdict
    alerts: AlertVerdict
    faults: list[tuple[str, float]]
    recovery: list[tuple[str, float | None]]
    replication: dict[str, tuple[int, str]]
    wall_s: float
    retries: int
    phases: dict[str, float] = field(default_factory=dict)  # seconds each part of the run took
    took: dict[str, float] = field(default_factory=dict)  # per fault kind, see Nemesis.took
    lost_at: list[tuple[float, str]] = field(default_factory=list)  # (accepted, dispatch id)
    lost_via: dict[str, int] = field(default_factory=dict)  # by the entry point of the input
    lags: list[tuple[float, float]] = field(default_factory=list)
    """(accepted, seconds until its first dispatch was written) per input: the bus's latency
    under faults (file-drop rows count from when their file was seen processed)."""

    def lost_after(self) -> dict[str, int]:
        accepted = {dispatch_id: t for t, dispatch_id in self.lost_at}
        return lost_after(self.faults, accepted, accepted)

    def report(self) -> str:
        by_kind = Counter(kind for kind, _ in self.faults)
        times = [t for _, t in self.recovery if t is not None]
        p50, worst = percentile(times, 0.5), percentile(times, 1.0)
        v = self.verdict
        lines = [
            f"- events: {v.inputs} acknowledged inputs ({v.inputs_by_path}), "
            f"{v.expected_outputs} dispatches expected, {v.outputs_read} read",
            f"- faults: {len(self.faults)} ({dict(sorted(by_kind.items()))})",
            f"- lost: {len(v.lost)}; misrouted: {len(v.misrouted)}; escalations (dispatches "
            f"left unacknowledged past their deadline): {v.escalations}",
            *([f"  - lost, by the fault struck last before their input: {self.lost_after()}; "
               f"by the entry point that accepted it: {self.lost_via}"]
              if self.lost_at else []),
            f"- duplicates before dedupe: {v.duplicates_before_dedupe}; after dedupe: "
            f"{len(v.duplicates_after_dedupe)}",
            f"- reorderings per case key: {len(v.out_of_order)}",
            f"- public alerts: {self.alerts.summary()}",
            f"- poison: {v.poison_injected} injected, {v.poison_dead_lettered} dead-lettered; "
            f"other dead letters: {len(v.unexpected_dead_letters)}",
            f"- time from a fault until dispatches flowed again: p50 "
            f"{_s(p50)}, max {_s(worst)} (none within the run: "
            f"{sum(1 for _, t in self.recovery if t is None)})",
        ]
        per_kind: dict[str, list[float]] = {}
        for kind, t in self.recovery:
            if t is not None:
                per_kind.setdefault(kind, []).append(t)
        lines += [f"  - {kind}: max {_s(max(ts))}" for kind, ts in sorted(per_kind.items())]
        lags = [lag for _, lag in self.lags]
        lines.append(f"- input accepted -> its first dispatch written: p50 "
                     f"{_s(percentile(lags, 0.5))}, p99 {_s(percentile(lags, 0.99))}, max "
                     f"{_s(percentile(lags, 1.0))}")
        lines.append("- time each kind took until the system was whole again: " + ", ".join(
            f"{kind} {seconds:.0f} s" for kind, seconds in sorted(self.took.items())))
        phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.phases.items())
        lines.append(f"- entry-point retries during faults: {self.retries}; wall clock "
                     f"{self.wall_s:.0f} s ({phases})")
        return "\n".join(lines)


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


async def run(root: Path, base_port: int, plan: Plan) -> Outcome:
    started = time.monotonic()
    system = System(root, base_port)
    await asyncio.to_thread(system.up)
    up_s = time.monotonic() - started
    try:
        codec = EventCodec(Catalogue.load())
        load = Load(system, codec)
        nemesis = Nemesis(system)
        outcome = await _drive(system, load, nemesis, plan)
        outcome.wall_s = time.monotonic() - started
        outcome.phases = {"up": up_s, **outcome.phases}
        return outcome
    finally:
        await asyncio.to_thread(system.down)


async def _drive(system: System, load: Load, nemesis: Nemesis, plan: Plan) -> Outcome:
    """The load runs until every fault has struck (and the system is whole again) and at
    least ``plan.events`` inputs were sent; faults are spread over the time the events take."""
    rows = 20
    endless = 10**9
    stop = asyncio.Event()
    duration = plan.events / plan.rate
    tasks = [
        asyncio.create_task(load.publisher_path(endless, plan.rate / 3, stop)),
        asyncio.create_task(load.gateway_path(endless, plan.rate / 3, stop)),
        asyncio.create_task(load.file_path(endless, rows, rows / (plan.rate / 3), stop)),
        asyncio.create_task(load.poison_records(plan.poison, duration / plan.poison, stop)),
        asyncio.create_task(load.missing_person_path(plan.cases, duration / plan.cases, stop)),
    ]
    began = time.monotonic()
    bound = LoadBound(began + max(900.0, 6 * duration), system, load, plan)
    try:
        await _until(lambda: load.sent >= 100, tasks, bound)  # flowing before the first fault
        kinds = list(nemesis.kinds)
        gap = duration / (plan.faults + 1)
        for n in range(plan.faults):
            struck = time.monotonic()
            await nemesis.strike(kinds[n % len(kinds)])
            load.files_done()
            await _until(lambda b=struck: time.monotonic() - b >= gap, tasks, bound)

        def all_sent() -> bool:
            return (load.sent >= plan.events and len(load.poison) >= plan.poison
                    and len(load.alert_cases) >= plan.cases)

        await _until(all_sent, tasks, bound)
        await asyncio.sleep(5)  # inputs after the last recovery
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    loaded = time.monotonic()
    await _settle(load, plan.settle_s)
    replication = await asyncio.to_thread(system.replication_report)
    read, alerts, first_written, dead = await _read_outputs(system, load, plan.settle_s)
    phases = {"load and faults": loaded - began, "settle and read": time.monotonic() - loaded}
    expected = [item for _, item in load.accepted]
    verdict = check(expected, read, poison=load.poison, dead_letters=dead)
    alert_verdict = check_alerts(load.alert_cases.values(), alerts, ALERTS)
    accepted = [(t, item.dispatches[0].dispatch_id) for t, item in load.accepted]
    recovery = recovery_times(nemesis.struck, accepted, first_written)
    lags = sorted((t, first_written[d] - t) for t, d in accepted if d in first_written)
    inputs = {d.dispatch_id: (t, item.via) for t, item in load.accepted for d in item.dispatches}
    lost = [(*inputs.get(d, (0.0, None)), d) for d in verdict.lost]  # poison: no input
    return Outcome(verdict, alert_verdict, nemesis.struck, recovery, replication, 0.0,
                   load.retries,
                   phases, nemesis.took, sorted((t, d) for t, _, d in lost),
                   dict(sorted(Counter(via for _, via, _ in lost if via).items())), lags)


@dataclass(frozen=True)
class LoadBound:
    """When the load phase gives up: a run whose inputs stop flowing (a process that cannot
    start, e.g.) fails with what it saw instead of waiting for ever."""

    at: float
    system: System
    load: Load
    plan: Plan

    def check(self) -> None:
        for process in self.system.processes:  # between faults every process runs
            if not process.alive:
                raise AssertionError(process.exited())
        if time.monotonic() < self.at:
            return
        raise AssertionError(
            f"the load phase passed its bound: {self.load.sent} of {self.plan.events} inputs "
            f"sent, {len(self.load.poison)} of {self.plan.poison} poison records (the logs: "
            f"{self.system.logs})"
        )


async def _until(
    done: Callable[[], bool], tasks: list[asyncio.Task[None]], bound: LoadBound
) -> None:
    """Wait for ``done``; a load task that failed fails the run at once, and so does the
    load phase passing its ``bound``."""
    while not done():
        for task in tasks:
            if task.done() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        bound.check()
        await asyncio.sleep(0.5)


async def _settle(load: Load, timeout_s: float) -> None:
    """Every dropped file taken by the connector (its rows are inputs only then)."""
    deadline = time.monotonic() + timeout_s
    while load.pending_files and time.monotonic() < deadline:
        load.files_done()
        await asyncio.sleep(0.5)
    if load.pending_files:
        raise AssertionError(f"files never processed: {sorted(load.pending_files)[:5]}")


async def _read_outputs(
    system: System, load: Load, timeout_s: float
) -> tuple[list[Dispatch], list[AlertMessage], dict[str, float], list[str]]:
    """The inboxes, the alert topics (until every expected dispatch, alert and cancel came, or
    the time is up, then a few seconds more for late copies) and the dead-letter topics, in
    each partition's order."""
    wanted = {d.dispatch_id for _, item in load.accepted for d in item.dispatches}
    wanted |= {f"{topic} {case.reference} {kind}" for case in load.alert_cases.values()
               for topic in ALERTS for kind in ("ALERT", "CANCEL")[:1 + case.closed]}
    alerts: list[AlertMessage] = []
    consumer = AIOKafkaConsumer(
        **system.cluster.admin_settings().aiokafka_kwargs(), group_id=None,
        enable_auto_commit=False, auto_offset_reset="earliest",
    )
    await consumer.start()
    read: list[Dispatch] = []
    first: dict[str, float] = {}
    dead: list[str] = []
    try:
        topics = (*INBOXES, *ALERTS, *DEAD_LETTERS)
        partitions = [TopicPartition(topic, p) for topic in topics
                      for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [TopicPartition(topic, p) for topic in topics
                          for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout_s
        quiet_until: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    if tp.topic in DEAD_LETTERS:
                        dead.append(_dead_letter_id(record))
                        continue
                    event = load.codec.decode(record.value, record.headers).event
                    if isinstance(event, EmergencyAlert):
                        alerts.append(_alert_message(tp.topic, event))
                        first.setdefault(f"{tp.topic} {event.reference} {event.msgType}",
                                         record.timestamp / 1000)
                        continue
                    if not isinstance(event, SightingDispatch):
                        continue
                    agency = tp.topic.rsplit(".", 1)[1]
                    read.append(Dispatch(agency, event.sightingId, event.dispatchId,
                                         str(event.kind), event.target.unitId
                                         or event.target.agencyId))
                    first.setdefault(event.dispatchId, record.timestamp / 1000)
            if quiet_until is None and wanted <= set(first):
                quiet_until = time.monotonic() + 10
            if quiet_until is not None and time.monotonic() > quiet_until:
                break
    finally:
        await consumer.stop()
    return read, alerts, first, dead


def _alert_message(topic: str, alert: EmergencyAlert) -> AlertMessage:
    cap = parse_cap(alert.cap)
    return AlertMessage(topic, alert.reference, alert.identifier, str(alert.msgType),
                        alert.sequence, tuple(r.identifier for r in cap.references))


def _dead_letter_id(record: object) -> str:
    key = (getattr(record, "key", None) or b"").decode(errors="replace")
    if key.startswith("poison-"):
        return key
    headers = dict(getattr(record, "headers", ()) or ())
    reason = headers.get("exchange.error.reason", b"?").decode(errors="replace")
    return f"{getattr(record, 'topic', '?')} key={key} reason={reason}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--faults", type=int, default=30)
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--out", type=Path, default=REPO / ".state" / "soak-report.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    base_port = int(os.environ.get("EXCHANGE_TEST_BASE_PORT", "29092")) + 300
    plan = Plan(events=args.events, faults=args.faults, rate=args.rate,
                poison=max(12, args.faults), cases=max(10, args.faults), settle_s=600)
    outcome = asyncio.run(run(REPO / ".state" / "nemesis-soak", base_port, plan))
    text = (f"Soak: `make soak` ({args.events} events, {args.faults} faults, "
            f"{args.rate}/s), {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores\n\n"
            + outcome.report() + "\n\nChecker: " + outcome.verdict.summary()
            + "\n\nAlerts: " + outcome.alerts.summary() + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    faults = "".join(f"{t:.3f}\tfault\t{kind}\n" for kind, t in outcome.faults)
    lost = "".join(f"{t:.3f}\tlost\t{d}\n" for t, d in outcome.lost_at)
    lost += "".join(f"{t:.3f}\tlag\t{lag:.3f}\n" for t, lag in outcome.lags)
    args.out.with_suffix(".tsv").write_text(  # the lost and lags beside the faults, in order
        "".join(sorted((faults + lost).splitlines(keepends=True)))
    )
    print(text)
    raise SystemExit(0 if outcome.verdict.clean and outcome.alerts.clean else 1)


if __name__ == "__main__":
    main()
