"""The monitoring stack of the operations tests (one per test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.monitoring import Webhook, stack_fixture, webhook_fixture

from exchange.operations.stack import MonitoringStack


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    yield from webhook_fixture()


@pytest.fixture(scope="module")
def stack(provisioned, webhook: Webhook, tmp_path_factory) -> Iterator[MonitoringStack]:
    yield from stack_fixture(provisioned, tmp_path_factory)
