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
    """Health's dead-letter topic, health's inbox as the origin: replayed. A forged signature, an
    origin health does not read (the audit trail) or a topic that is no dead-letter topic:
    refused, and nothing is replayed. Headers with terminal escapes are printed escaped."""
    admin = provisioned.broker.admin
    topology = provisioned.topology
    dlq, original = "exchange.deadletter.health", "exchange.compliance.to.health"
    run = unique("run")
    other = unique("ops.other")
    client = KafkaAdminClient(**admin.kafka_python_kwargs())
    client.create_topics([NewTopic(other, 1, 1)])
    client.close()
    producer = KafkaProducer(**admin.kafka_python_kwargs())
    producer.send(dlq, key=b"case-1", value=b"\xc3\x01body",
                  headers=_dead_letter(f"{run}-1", "handler-error", original)).get(30)  # fmt: skip
    producer.send(dlq, key=b"case-2", value=b"\xc3\x01forged",
                  headers=_dead_letter(f"{run}-2", "bad-signature", original)).get(30)  # fmt: skip
    producer.send(dlq, key=b"case-3", value=b"{}", headers=_dead_letter(
        f"{run}-3\x1b]0;pwned\x07\u202e", "handler-error", "exchange.audit")).get(30)  # fmt: skip
    producer.send(other, key=b"case-4", value=b"x",
                  headers=_dead_letter(f"{run}-4", "handler-error", original)).get(30)  # fmt: skip
    producer.close()

    every = sorted((r for r in read_dead_letters(admin, [dlq])
                    if r.header("ce_id").startswith(run)), key=lambda r: r.header("ce_id"))
    assert [r.header("ce_id")[: len(run) + 2] for r in every] == [f"{run}-{n}" for n in (1, 2, 3)]
    handled, forged, foreign = every
    assert list(read_dead_letters(admin, [dlq], Filter(original_topic="elsewhere"))) == []

    with pytest.raises(ReplayRefusedError, match=r"verification-failed"):
        replay(admin, every, by="tester", topology=topology)  # one refusal: nothing replayed
    with pytest.raises(ReplayRefusedError, match=r"foreign-origin"):
        replay(admin, [handled, foreign], by="tester", topology=topology)
    [not_dead] = list(read_dead_letters(admin, [other]))
    with pytest.raises(ReplayRefusedError, match=r"not-a-dead-letter"):
        replay(admin, [not_dead], by="tester", topology=topology)
    assert [r for r in _records(admin, original) if r.value == b"\xc3\x01body"] == []
    assert not [r for r in _records(admin, "exchange.audit") if r.value == b"{}"]

    [done] = replay(admin, [handled], by="tester", topology=topology)
    assert done["from"] == handled.where
    [sent] = [r for r in _records(admin, original)
              if dict(r.headers).get("ce_id") == f"{run}-1".encode()]  # fmt: skip
    assert (sent.key, sent.value) == (b"case-1", b"\xc3\x01body")
    headers = {k: v.decode() for k, v in sent.headers}
    assert headers["exchange.replay.by"] == "tester"
    assert headers["exchange.replay.from"] == handled.where
    assert not any(k.startswith(("exchange.error.", "exchange.original.")) for k in headers)

    audit = [json.loads(r.value) for r in _records(admin, "exchange.audit")]
    [entry] = [a for a in audit if a.get("action") == "replayed"  # checkpoints have none
               and a.get("event_id") == f"{run}-1" and a.get("topic") == original]  # fmt: skip
    assert entry["agency"] == "operations"
    assert json.loads(entry["detail"]) == {"from": handled.where, "by": "tester"}

    _the_cli_shows_escaped_and_refuses(admin, run, forged, foreign)


def _the_cli_shows_escaped_and_refuses(admin: KafkaSettings, run: str, forged, foreign) -> None:
    env = kafka_env(admin)
    shown = subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", "deadletter", "show", forged.where],
        env=env, cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["reason"] == "bad-signature"
    refused = subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", "deadletter", "replay-one", forged.where],
        env=env, cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert refused.returncode == 2
    assert "[verification-failed]" in refused.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", "deadletter", "list", "--agency", "health"],
        env=env, cwd=REPO, capture_output=True, text=True, check=False,
    )
    escaped = subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", "deadletter", "show", foreign.where],
        env=env, cwd=REPO, capture_output=True, text=True, check=False,
    )
    for done_cli in (listed, escaped):
        assert done_cli.returncode == 0, done_cli.stderr
        assert not any(c in done_cli.stdout for c in ("\x1b", "\x07", "\u202e"))
    assert f"{run}-3\\u001b]0;pwned\\u0007\\u202e" in listed.stdout
    assert json.loads(escaped.stdout)["ce_id"] == f"{run}-3\x1b]0;pwned\x07\u202e"
