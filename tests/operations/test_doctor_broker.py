"""``exchange doctor`` against the real broker: a verdict per check, failures that fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaConsumer, KafkaProducer
from support.monitoring import kafka_env

from exchange.operations.doctor import Doctor, render, verdict

pytestmark = pytest.mark.broker

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _by_name(checks):
    return {c.name: c for c in checks}


def test_doctor_sees_a_healthy_cluster_and_fails_on_no_worker_and_quarantine(
    provisioned, unique
) -> None:
    admin = provisioned.broker.admin
    since = datetime.now(UTC) - timedelta(seconds=5)
    prefix = unique("workflows.doctor") + "."
    doctor = Doctor(admin, provisioned.topology, since=since, replication_cap=1,
                    group_prefix=prefix)  # fmt: skip
    before = _by_name(doctor.run())
    assert before["cluster reachable"].status == "ok"
    assert before["active controller"].status == "ok"
    assert before["offline partitions"].status == "ok"
    assert before["topology plan empty"].status == "ok", before["topology plan empty"].detail
    assert before["workers"].status == "fail"  # no group with this prefix: no worker ever ran

    producer = KafkaProducer(**admin.kafka_python_kwargs())
    producer.send("exchange.quarantine.health", b"forged").get(30)
    producer.send("exchange.deadletter.health", b"undecodable").get(30)
    producer.close()
    group = prefix + "main"
    consumer = KafkaConsumer("exchange.sighting", group_id=group, enable_auto_commit=False,
                             **admin.kafka_python_kwargs())  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=200)
        consumer.commit()
        after = doctor.run()
    finally:
        consumer.close()
    checks = _by_name(after)
    assert checks[f"workers of {group}"].status == "ok", checks[f"workers of {group}"].detail
    assert checks[f"lag of {group}"].status == "ok"
    quarantine = next(c for c in after if c.name.startswith("quarantined since"))
    assert quarantine.status == "fail"
    assert "exchange.quarantine.health: " in quarantine.detail
    dead = next(c for c in after if c.name.startswith("dead letters since"))
    assert dead.status == "warn"
    assert "exchange.deadletter.health: " in dead.detail
    assert verdict(after) == "fail"
    assert render(after).endswith("Verdict: FAILING (see the FAIL lines and "
                                  "exchange/operations/RUNBOOK.md).")  # fmt: skip

    env = kafka_env(admin)
    done = subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", "doctor", "--json", "--replication", "1",
         "--since", since.isoformat()],
        env=env, cwd=REPO, capture_output=True, text=True, check=False,
    )
    answer = json.loads(done.stdout)
    assert answer["verdict"] == "fail"  # the quarantined record above
    assert done.returncode == 1


def test_an_unreachable_cluster_is_one_failed_check(provisioned) -> None:
    # In its own process: kafka-python leaves the sockets of a client it failed to build to
    # the collector, which pytest (warnings are errors) would count against the session.
    admin = provisioned.broker.admin
    env = {**kafka_env(admin), "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:9",
           "EXCHANGE_KAFKA__REQUEST_TIMEOUT_MS": "3000"}
    done = subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", "doctor", "--json"],
        env=env, cwd=REPO, capture_output=True, text=True, check=False,
    )
    answer = json.loads(done.stdout)
    assert [(c["name"], c["status"]) for c in answer["checks"]] == [("cluster reachable", "fail")]
    assert answer["verdict"] == "fail"
    assert done.returncode == 1
