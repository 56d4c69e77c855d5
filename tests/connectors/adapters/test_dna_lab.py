"""The DNA laboratory source against the real broker and a laboratory the test runs (HTTPS):
results published once each in sequence order, a result breaking the contract dead-lettered
with its rule, a restart and a laboratory outage lose and repeat nothing; the feed must be
HTTPS and the feed's page shape is checked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.adapters.dna_lab import DnaLabConfig, DnaLabSource, FeedError, feed_items
from connectors.registry import connector_class
from connectors.sdk.testing import ConnectorHarness, Received
from exchange.examples.dna import example_dna_comparison_result
from tests.connectors.laboratory import Laboratory

pytestmark = pytest.mark.broker


def result(number: int, **changes: Any) -> dict[str, Any]:
    data = example_dna_comparison_result().model_dump(mode="json")
    return {**data, "resultId": f"DNA-X-LAB-{number:04d}", **changes}


@pytest.fixture
async def laboratory(harness: ConnectorHarness) -> AsyncIterator[Laboratory]:
    assert harness.pki is not None
    lab = Laboratory(harness.pki)
    await lab.start()
    try:
        yield lab
    finally:
        await lab.stop()


def config(harness: ConnectorHarness, lab: Laboratory) -> DnaLabConfig:
    assert harness.pki is not None
    return harness.config(
        DnaLabConfig, kind="dna-lab", name=harness.unique_name("dna-lab"), agency="police",
        url=lab.url, ca_file=harness.pki.ca_file, poll_interval_s=0.1, batch=2,
        retry={"initial_backoff_s": 0.1, "max_backoff_s": 0.3, "max_attempts": 5},
    )  # fmt: skip


def ids(got: list[Received]) -> list[str]:
    return [r.decoded.event.resultId for r in got if r.decoded]


async def test_results_published_once_bad_ones_dead_lettered_across_restart_and_outage(
    harness: ConnectorHarness, laboratory: Laboratory
) -> None:
    assert connector_class("dna-lab") is DnaLabSource
    cfg = config(harness, laboratory)
    laboratory.add(result(1))
    laboratory.add(result(2, outcome="NO_MATCH"))  # still names a match: breaks the contract
    laboratory.add(result(3, outcome="NO_MATCH", matchedSampleId=None, likelihoodRatio=None,
                          relationship=None))  # fmt: skip
    async with harness.running(DnaLabSource(cfg, harness.context)):
        got = await harness.read("exchange.dna-result", agency="workflows", count=2,
                                 source=cfg.ce_source)  # fmt: skip
        dead = await harness.read(
            "exchange.deadletter.police", agency="operators", count=1,
            where=lambda r: r.headers.get("exchange.connector.name") == cfg.name,
        )  # fmt: skip
    assert ids(got) == ["DNA-X-LAB-0001", "DNA-X-LAB-0003"]
    assert [r.headers["ce_id"] for r in got] == ["dna-lab-1", "dna-lab-3"]
    [letter] = dead
    assert letter.headers["exchange.source.position"] == "lab:2"
    assert letter.headers["exchange.error.reason"] == "invalid-event"
    assert "NO_MATCH carries no matchedSampleId" in letter.headers["exchange.error.message"]

    laboratory.status = 503  # down for maintenance, then a new result and back
    laboratory.add(result(4))
    asked = len(laboratory.asked)
    async with harness.running(DnaLabSource(cfg, harness.context)):
        await harness.until(lambda: len(laboratory.asked) >= asked + 3)
        assert harness.metric("exchange_connector_errors_total", connector=cfg.name,
                              error="FeedError") >= 1  # fmt: skip
        laboratory.status = 200
        got = await harness.read("exchange.dna-result", agency="workflows", count=3,
                                 source=cfg.ce_source, settle=2)  # fmt: skip
    assert ids(got) == ["DNA-X-LAB-0001", "DNA-X-LAB-0003", "DNA-X-LAB-0004"]  # none twice
    assert laboratory.asked[-1]["after"] == "4"


def test_the_feed_is_https_and_its_pages_are_checked() -> None:
    with pytest.raises(ValidationError, match="must be https://"):
        DnaLabConfig(kind="dna-lab", name="lab", agency="police", url="http://lab/results")
    assert feed_items(b'{"results": [{"seq": 2, "result": {}}, {"seq": 1, "result": 1}]}') == [
        (1, 1), (2, {})]
    for body, status, message in (
        (b"{}", 200, "expected"), (b"[", 200, "not JSON"),
        (b'{"results": [{"seq": "1"}]}', 200, "results.0.seq"), (b"", 502, "HTTP 502"),
    ):
        with pytest.raises(FeedError, match=message):
            feed_items(body, status)
