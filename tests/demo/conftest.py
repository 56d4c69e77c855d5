"""The demo plays on a broker of its own, not on the session's.

The demo is its own joint-meeting office: its root certifies keys that every agency of the
demo makes in the demo's state folder, so the events it leaves on the bus are signed with keys
the rest of the session does not hold. On the session's broker, every later test that reads a
topic from its beginning would meet them (``bad-signature``: the demo's ``workflows.sig.1`` is
not the session's) and the session's workers would quarantine them. The canary test reads this
broker's files, which then hold the demo's traffic only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.ports import free_port_pair
from support.provisioned import BrokerHandle, Provisioned, fresh_broker, provision

STATE = Path(__file__).resolve().parents[2] / ".state" / "test-broker-demo"


@pytest.fixture(scope="package")
def kafka() -> Iterator[BrokerHandle]:
    with fresh_broker(STATE, free_port_pair()) as handle:
        yield handle


@pytest.fixture(scope="package")
def provisioned(kafka: BrokerHandle) -> Provisioned:
    return provision(kafka, STATE)
