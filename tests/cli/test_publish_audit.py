"""``exchange publish`` records what it sends: the event in the agency's audit chain, and the
chain's head signed when the command ends (a checkpoint the notary can time-stamp)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exchange.evidence.chains import verify_anchored
from exchange.examples import example_json
from exchange.protection.audit_kafka import read_audit
from tests.cli.test_cli import run_cli

pytestmark = pytest.mark.broker


async def test_publish_records_the_event_and_signs_the_chain_head(
    provisioned, tmp_path: Path
) -> None:
    env = {
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent),
    }
    file = tmp_path / "sighting.json"
    file.write_text(json.dumps(example_json("transport-sighting")))
    done = run_cli("publish", "transport-sighting", str(file), "--as", "transport", env=env)
    assert done.returncode == 0, done.stderr
    event_id = done.stdout.split("id=")[1].split()[0]
    where = done.stdout.split()[-1]  # exchange.sighting[P]@O

    entries = await read_audit(provisioned.kafka_as("operators"),
                               provisioned.topology.topic("exchange.audit").partitions)
    records = [e.record for e in entries if e.record.get("event_id") == event_id]
    assert len(records) == 1, records
    record = records[0]
    assert (record["action"], record["agency"], record["source"]) == (
        "published", "transport", "/agencies/transport/cli")
    assert f"{record['topic']}[{record['partition']}]@{record['offset']}" == where
    chain = [e for e in entries if e.record.get("chain") == record["chain"]]
    checkpoints = [e.record for e in chain if e.record.get("kind") == "checkpoint"]
    assert [c["reason"] for c in checkpoints] == ["shutdown"]
    assert checkpoints[0]["head"] == record["hash"]
    report = verify_anchored(chain, provisioned.keys)
    assert report.ok, report.findings
    assert not report.of("unanchored")  # the head is signed: nothing waits for a checkpoint
