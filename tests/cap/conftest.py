"""The public alert every CAP test renders: the example missing person report's child."""

from __future__ import annotations

import pytest

from exchange.examples.core import example_missing_person_report
from exchange.rules.public_alert import PublicAlert, public_alert_from


@pytest.fixture
def alert() -> PublicAlert:
    return public_alert_from(example_missing_person_report())
