"""The fail-closed guard's verdicts on a clock the test moves (the broker test is
test_fail_closed_broker.py)."""

from __future__ import annotations

import json

import pytest
from prometheus_client import CollectorRegistry
from support.evidence import attributes

from exchange.evidence.checkpoints import AnchoredTrail, checkpoint_problem, retry_head
from exchange.evidence.exceptions import AuditUnavailableError
from exchange.evidence.guard import AuditGuard, GuardedSink
from exchange.evidence.metrics import EvidenceMetrics
from exchange.protection.keys import FileKeyStore
from exchange.settings import AuditSettings, FailClosedPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FlakySink:
    def __init__(self) -> None:
        self.down = False
        self.written: list[bytes] = []

    async def write(self, key: bytes, value: bytes) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        self.written.append(value)


def guard(policy: FailClosedPolicy) -> tuple[AuditGuard, Clock, CollectorRegistry]:
    clock, registry = Clock(), CollectorRegistry()
    return AuditGuard("police", policy, EvidenceMetrics.on(registry), clock=clock), clock, registry


def test_the_defaults_are_written_down() -> None:
    policy = AuditSettings().fail_closed
    assert policy.enabled
    assert policy.max_unanchored_seconds == 4 * 3600  # X-Road's default
    assert policy.max_unwritten_seconds == 60


async def test_unwritten_records_close_after_the_limit_and_a_write_reopens() -> None:
    checker, clock, registry = guard(FailClosedPolicy(max_unwritten_seconds=60))
    sink = FlakySink()
    guarded = GuardedSink(sink, checker)
    sink.down = True
    with pytest.raises(ConnectionError):
        await guarded.write(b"k", b"{}")
    clock.now += 59
    checker.check()
    clock.now += 2
    with pytest.raises(AuditUnavailableError, match="unwritten for 61 s") as refused:
        checker.check()
    assert refused.value.retry_after > 0
    assert registry.get_sample_value("exchange_audit_fail_closed", {"agency": "police"}) == 1
    sink.down = False
    await guarded.write(b"k", b"{}")
    checker.check()
    assert registry.get_sample_value("exchange_audit_fail_closed", {"agency": "police"}) == 0
    assert registry.get_sample_value("exchange_audit_refused_total", {"agency": "police"}) == 1


async def test_a_checkpoint_unanchored_too_long_closes_until_an_anchor_covers_it() -> None:
    checker, clock, registry = guard(FailClosedPolicy(max_unanchored_seconds=100))
    guarded = GuardedSink(FlakySink(), checker)
    await guarded.write(b"k", json.dumps({"kind": "checkpoint", "seq": 4}).encode())
    clock.now += 50
    await guarded.write(b"k", json.dumps({"kind": "checkpoint", "seq": 9}).encode())
    clock.now += 60
    with pytest.raises(AuditUnavailableError, match="not time-stamped for 110 s"):
        checker.check()
    checker.anchored(4)  # the older one anchored: the newer is 60 s old
    checker.check()
    value = registry.get_sample_value("exchange_audit_unanchored_seconds", {"agency": "police"})
    assert value == 60
    checker.anchored(9)
    assert checker.unanchored_seconds() == 0


async def test_a_retried_head_reopens_a_guard_closed_by_unwritten_records(
    keys: FileKeyStore,
) -> None:
    """Refused, a publisher writes nothing; signing the head again is what finds the audit path
    working and reopens the guard."""
    checker, clock, _ = guard(FailClosedPolicy(max_unwritten_seconds=60))
    sink = FlakySink()
    trail = AnchoredTrail(GuardedSink(sink, checker), "police", keys)
    assert not await retry_head(trail)  # no record yet: no head to sign
    await trail.record("published", attributes("C1", 0), topic="t", partition=0, offset=0)
    await trail.checkpoint("interval")  # the head is signed: a retry signs it again
    sink.down = True
    with pytest.raises(ConnectionError):
        await trail.record("published", attributes("C1", 1), topic="t", partition=0, offset=1)
    clock.now += 61
    with pytest.raises(AuditUnavailableError):
        checker.check()
    assert not await retry_head(trail)  # still down
    with pytest.raises(AuditUnavailableError):
        checker.check()
    sink.down = False
    assert await retry_head(trail)
    checker.check()
    signed = json.loads(sink.written[-1])
    assert (signed["kind"], signed["seq"], signed["reason"]) == ("checkpoint", 0, "retry")
    assert checkpoint_problem(keys, signed) is None


def test_a_disabled_policy_never_refuses_but_still_measures() -> None:
    checker, clock, registry = guard(FailClosedPolicy(enabled=False))
    checker.write_failed()
    checker.checkpointed(0)
    clock.now += 10 * 3600
    checker.check()
    assert registry.get_sample_value("exchange_audit_fail_closed", {"agency": "police"}) == 0
    assert registry.get_sample_value(
        "exchange_audit_unanchored_seconds", {"agency": "police"}) == 10 * 3600
