"""Dead letters listed, shown and replayed against the real broker; forgeries refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from support.monitoring import kafka_env

from exchange.operations.deadletters import (
    Filter,
    ReplayRefusedError,
    read_dead_letters,
    replay,
)
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.broker

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _records(admin: KafkaSettings, topic: str) -> list:
    consumer = KafkaConsumer(enable_auto_commit=False, consumer_timeout_ms=3000,
                             **admin.kafka_python_kwargs())  # fmt: skip
    consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
    consumer.seek_to_beginning()
    found = list(consumer)
    consumer.close()
    return found


def _dead_letter(ce_id: str, reason: str, original: str) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in [
        ("ce_specversion", "1.0"), ("ce_id", ce_id), ("ce_source", "/agencies/transport/test"),
        ("ce_type", "exchange.events.TransportSighting"), ("content-type", "application/avro"),
        ("exchange.error.reason", reason), ("exchange.error.class", "ValueError"),
        ("exchange.error.message", "boom"), ("exchange.original.topic", original),
        ("exchange.original.partition", "0"), ("exchange.original.offset", "41"),
        ("exchange.consumer.group", "health.inbox"),
    ]]  # fmt: skip


def test_replay_sends_the_original_back_unchanged_and_refuses_forgeries(
    provisioned, unique
) -> None:
    admin = provisioned.broker.admin
    dlq, original = unique("ops.dlq"), unique("ops.orig")
    client = KafkaAdminClient(**admin.kafka_python_kwargs())
    client.create_topics([NewTopic(dlq, 1, 1), NewTopic(original, 1, 1)])
    client.close()
    producer = KafkaProducer(**admin.kafka_python_kwargs())
    producer.send(dlq, key=b"case-1", value=b"\xc3\x01body",
                  headers=_dead_letter("evt-1", "handler-error", original)).get(30)  # fmt: skip
    producer.send(dlq, key=b"case-2", value=b"\xc3\x01forged",
                  headers=_dead_letter("evt-2", "bad-signature", original)).get(30)  # fmt: skip
    producer.close()

    every = list(read_dead_letters(admin, [dlq]))
    assert [r.header("ce_id") for r in every] == ["evt-1", "evt-2"]
    [handled] = list(read_dead_letters(admin, [dlq], Filter(reason="handler-error")))
    assert list(read_dead_letters(admin, [dlq], Filter(original_topic="elsewhere"))) == []

    with pytest.raises(ReplayRefusedError, match=r"verification-failed"):
        replay(admin, every, by="tester")  # one forgery: nothing is replayed
    assert _records(admin, original) == []

    [done] = replay(admin, [handled], by="tester")
    assert done["from"] == f"{dlq}:0:0"
    [sent] = _records(admin, original)
    assert (sent.key, sent.value) == (b"case-1", b"\xc3\x01body")
    headers = {k: v.decode() for k, v in sent.headers}
    assert headers["ce_id"] == "evt-1"
    assert headers["exchange.replay.by"] == "tester"
    assert headers["exchange.replay.from"] == f"{dlq}:0:0"
    assert not any(k.startswith(("exchange.error.", "exchange.original.")) for k in headers)

    audit = [json.loads(r.value) for r in _records(admin, "exchange.audit")]
    [entry] = [a for a in audit if a["action"] == "replayed" and a["event_id"] == "evt-1"
               and a["topic"] == original]  # fmt: skip
    assert entry["agency"] == "operations"
    assert json.loads(entry["detail"]) == {"from": f"{dlq}:0:0", "by": "tester"}

    env = kafka_env(admin)
    shown = subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", "deadletter", "show", f"{dlq}:0:1"],
        env=env, cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["reason"] == "bad-signature"
    refused = subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", "deadletter", "replay-one", f"{dlq}:0:1"],
        env=env, cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert refused.returncode == 2
    assert "[verification-failed]" in refused.stderr
