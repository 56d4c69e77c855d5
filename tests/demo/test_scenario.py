"""The README's main job plays through on the real broker and says what happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.demo.scenario import run_demo
from exchange.examples import example_json
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.broker


async def test_demo_delivers_every_event_and_shows_the_guard_rails(
    provisioned, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def kafka_as(principal: str) -> KafkaSettings:
        return provisioned.broker.admin.with_principal(
            principal, provisioned.credentials.password_for(principal)
        )

    assert await run_demo(provisioned.topology, kafka_as, tmp_path) == 0
    out = capsys.readouterr().out
    assert "16/16 deliveries made" in out
    assert "refused to the sender, nothing sent" in out
    assert "denied by the broker: TopicAuthorizationFailedError" in out
    # Protection: keys certified on the bus, fields sealed for those not entitled, forgeries
    # quarantined with their reasons.
    assert "the office checked each request's proof of possession and certified" in out
    assert "sees <protected> at" in out
    assert "opens every field" in out
    for reason in ("uncertified-key x1", "bad-signature x1", "unsigned x1"):
        assert reason in out
    assert "quarantined to exchange.quarantine.police" in out
    assert "UNEXPECTED" not in out
    # The workflows act: dispatches, an escalation, a widening alert, a match, a cancel.
    assert "railway-police.xian-north-station <- RESPOND" in out
    assert "<- INTERCEPT" in out
    assert "police.command-centre <- ESCALATION" in out
    for radius in (100, 200, 300, 500):
        assert f"radius {radius} km" in out
    assert "candidate match" in out
    assert "CAP CANCEL" in out
    assert "(not seen in time)" not in out
    # No personal data of the examples is printed (names, ID numbers).
    victim = example_json("rescue")["victims"][0]["person"]
    assert victim["documents"][0]["number"] not in out
    if victim.get("name"):
        assert victim["name"] not in out
