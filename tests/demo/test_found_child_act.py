"""The demo's fifth act on the real broker: a child of unknown origin reported by a school,
sampled, matched to a cold case, the alert cancelled, the referral plan started."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.codec import EventCodec
from exchange.demo import found_child
from exchange.demo.keys import certify_demo_keys
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.broker


async def test_the_found_child_act_plays_through(
    provisioned, codec: EventCodec, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def kafka_as(principal: str) -> KafkaSettings:
        return provisioned.broker.admin.with_principal(
            principal, provisioned.credentials.password_for(principal)
        )

    keys = await certify_demo_keys(provisioned.topology, kafka_as, codec, tmp_path)
    assert await found_child.play(provisioned.topology, kafka_as, keys, tmp_path) == 0
    out = capsys.readouterr().out
    assert "police.yanta <- child of unknown origin" in out
    assert "in the ledger, answerable: 主管局长" in out
    assert "lead DNA_COMPARISON" in out
    assert "CANDIDATE" not in out or "OPEN linking" in out
    assert "closed: FOUND" in out
    assert "CANCELLED" in out
    for agency in ("civil-affairs", "health", "education"):
        assert f"{agency}" in out.split("rescue RS-", 1)[1]
    assert "(not seen in time)" not in out
