"""The connector test harness on the session's provisioned broker (see connectors/testing.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.testing import ConnectorHarness
from exchange.codec import EventCodec


@pytest.fixture
def harness(provisioned, codec: EventCodec, tmp_path: Path) -> ConnectorHarness:
    return ConnectorHarness(provisioned.kafka_as, provisioned.topology, codec, tmp_path / "state")
