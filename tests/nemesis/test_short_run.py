"""The short nemesis run (issue 16): a three-broker cluster at replication 3, two workers, the
HTTP gateway and the file-drop connector under a steady load of sightings (streets and moving
trains), missing-minor reports with public alerts later closed, and poison records, every fault
kind struck once, then every output checked: nothing lost, no duplicate after dedupe, nothing
misrouted or out of order, every alert Alert -> Updates -> Cancel with its references, dead
letters exactly the poison. The soak (``make soak``) is the same run, longer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.nemesis.run import Plan, run

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2] / ".state" / "test-nemesis"


async def test_the_bus_loses_nothing_through_every_kind_of_fault() -> None:
    base_port = int(os.environ.get("EXCHANGE_TEST_BASE_PORT", "29092")) + 300
    outcome = await run(ROOT, base_port, Plan(
        events=int(os.environ.get("EXCHANGE_NEMESIS_EVENTS", "2000")), faults=8, rate=16.0,
    ))
    print(outcome.report())
    timeline = ROOT / "timeline.tsv"  # the faults beside each input's lag, to read after a run
    timeline.write_text("".join(sorted(
        [f"{t:.3f}\tfault\t{kind}\n" for kind, t in outcome.faults]
        + [f"{t:.3f}\tlag\t{lag:.3f}\n" for t, lag in outcome.lags])))
    # Every topic, the workers' internal ones and Kafka's own included, at replication 3.
    assert {
        name: state for name, state in outcome.replication.items() if state != (3, "2")
    } == {}
    assert any(name.startswith("workflows.") for name in outcome.replication)
    assert "__consumer_offsets" in outcome.replication
    kinds = {kind for kind, _ in outcome.faults}
    assert len(kinds) == 8, kinds
    assert outcome.verdict.inputs >= 0.9 * int(os.environ.get("EXCHANGE_NEMESIS_EVENTS", "2000"))
    assert outcome.verdict.clean, outcome.verdict.summary()
    assert outcome.alerts.cases >= 10, outcome.alerts.summary()
    assert outcome.alerts.closed >= 1, outcome.alerts.summary()
    assert outcome.alerts.clean, outcome.alerts.summary()
