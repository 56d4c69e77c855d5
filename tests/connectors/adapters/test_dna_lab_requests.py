"""The DNA laboratory request sink against the real broker and a laboratory the test runs
(HTTPS, its own certificate, a bearer token): the police's comparison requests reach the
laboratory once each, in order, with their idempotency key; a sample's record is not sent; a
request the laboratory refuses is dead-lettered, a poison record (unsigned) quarantined, and the
sink goes on; the
laboratory down then back loses nothing; a restart repeats nothing; the intake must be HTTPS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError
from support.protection import quarantine_reasons

from connectors.adapters.dna_lab_requests import DnaLabRequestConfig, DnaLabRequestSink
from connectors.registry import connector_class
from connectors.sdk.testing import ConnectorHarness
from exchange.examples.dna import example_dna_comparison_request, example_dna_sample
from exchange.models.dna import DnaComparisonRequest
from tests.connectors.laboratory import Laboratory

pytestmark = pytest.mark.broker

TOKEN = "lab-token-" + uuid.uuid4().hex  # the bearer token of the test's own laboratory


@pytest.fixture
async def laboratory(harness: ConnectorHarness) -> AsyncIterator[Laboratory]:
    assert harness.pki is not None
    lab = Laboratory(harness.pki)
    await lab.start()
    try:
        yield lab
    finally:
        await lab.stop()


def config(harness: ConnectorHarness, lab: Laboratory, tmp_path: Path) -> DnaLabRequestConfig:
    assert harness.pki is not None
    token = tmp_path / "lab.token"
    token.write_text(TOKEN + "\n", encoding="utf-8")
    return harness.config(
        DnaLabRequestConfig, kind="dna-lab-requests", name=harness.unique_name("dna-requests"),
        url=lab.intake_url, ca_file=harness.pki.ca_file, token_file=token,
        retry={"initial_backoff_s": 0.1, "max_backoff_s": 0.3, "max_attempts": 50},
    )  # fmt: skip


def request(run: str, n: int) -> DnaComparisonRequest:
    return example_dna_comparison_request().model_copy(update={
        "requestId": f"DNA-R-{run}-{n}", "sampleId": f"DNA-S-{run}"})  # fmt: skip


def mine(lab: Laboratory, run: str) -> list[str]:
    return [body["requestId"] for body in lab.requests.values() if run in body["requestId"]]


async def test_requests_reach_the_laboratory_once_each_refusals_and_poison_dead_lettered(
    harness: ConnectorHarness, laboratory: Laboratory, provisioned: Any, tmp_path: Path
) -> None:
    assert connector_class("dna-lab-requests") is DnaLabRequestSink
    run = uuid.uuid4().hex[:8].upper()
    refused = f"DNA-R-{run}-2"
    laboratory.intake = lambda body: 422 if body["requestId"] == refused else 200
    sample = example_dna_sample().model_copy(update={"sampleId": f"DNA-S-{run}"})
    await harness.publish(sample, agency="police")
    for n in (1, 2, 3):
        await harness.publish(request(run, n), agency="police")
    raw = AIOKafkaProducer(**provisioned.kafka_as("police").aiokafka_kwargs())
    await raw.start()
    try:
        sent = await raw.send_and_wait("exchange.dna", b"not avro " + run.encode(),
                                       key=f"DNA-S-{run}".encode())  # fmt: skip
    finally:
        await raw.stop()
    await harness.publish(request(run, 4), agency="police")
    cfg = config(harness, laboratory, tmp_path)
    async with harness.running(DnaLabRequestSink(cfg, harness.context)):
        await harness.until(lambda: len(mine(laboratory, run)) == 3)
        dead = await harness.read(
            "exchange.deadletter.police", agency="operators", count=1,
            where=lambda r: r.headers.get("exchange.consumer.group") == cfg.group,
        )  # fmt: skip
    assert mine(laboratory, run) == [f"DNA-R-{run}-1", f"DNA-R-{run}-3", f"DNA-R-{run}-4"]
    assert all(body["sampleId"] == f"DNA-S-{run}" for body in laboratory.requests.values()
               if run in body["requestId"])  # fmt: skip
    assert all("requestId" in body for body in laboratory.requests.values())  # no sample record
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for h in laboratory.posts)
    key = next(k for k, body in laboratory.requests.items() if body["requestId"].endswith("-1"))
    assert key.startswith("/agencies/police/")  # ce_source "#" ce_id
    assert "#" in key
    reasons = {r.headers["exchange.error.reason"]: r for r in dead}
    assert set(reasons) == {"handler-error"}
    quarantined = await quarantine_reasons(provisioned, "police")
    assert quarantined.get(("exchange.dna", sent.partition, sent.offset)) == "unsigned"
    assert "HTTP 422" in reasons["handler-error"].headers["exchange.error.message"]
    assert "comparison request" in reasons["handler-error"].headers["exchange.error.message"]

    laboratory.intake = lambda _body: 503  # down for maintenance
    await harness.publish(request(run, 5), agency="police")
    posts = len(laboratory.posts)
    async with harness.running(DnaLabRequestSink(cfg, harness.context)):
        await harness.until(lambda: len(laboratory.posts) >= posts + 3)  # retried
        assert mine(laboratory, run)[-1] == f"DNA-R-{run}-4"
        laboratory.intake = lambda _body: 200  # back
        await harness.until(lambda: len(mine(laboratory, run)) == 4)
    assert mine(laboratory, run)[-1] == f"DNA-R-{run}-5"
    assert harness.metric("exchange_connector_retries_total", connector=cfg.name) >= 2

    posts = len(laboratory.posts)
    async with harness.running(DnaLabRequestSink(cfg, harness.context)):
        await harness.publish(request(run, 6), agency="police")
        await harness.until(lambda: len(mine(laboratory, run)) == 5)
    new = [h["Idempotency-Key"] for h in laboratory.posts[posts:]]
    assert len(new) == 1  # after the restart only the new request: nothing delivered twice


def test_the_intake_is_https() -> None:
    with pytest.raises(ValidationError, match="must be https://"):
        DnaLabRequestConfig(name="lab", url="http://dna-lab.example/requests")
