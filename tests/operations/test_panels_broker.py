"""Every dashboard panel's query returns data after a scenario on the real bus.

The scenario: a worker (time compressed x60), a file-drop connector publishing transport
sightings (one row invalid), a webhook sink delivering the police's dispatches, two dispatches
acknowledged a few seconds apart and one left to escalate, a second batch a little later
(a series born with its first value shows no rate until it grows again). Prometheus scrapes it
all (the broker's agent, the lag monitor, the processes that announced themselves), then each
panel's query runs against Prometheus' HTTP API and must return a number (not NaN).
"""

from __future__ import annotations

import asyncio
import json
import math
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from support.monitoring import BASE, WEBHOOK_PORT, kafka_env, query
from support.worker import REPO, dispatches, sighting, start_worker, stop_worker

from connectors.adapters.webhook import new_secret
from exchange.client.publisher import Publisher
from exchange.metrics import BusMetrics
from exchange.models.sightings import DispatchAcknowledgement, SightingDispatch
from exchange.operations.panels import DASHBOARDS

pytestmark = pytest.mark.broker

WORKER_PORT, DROP_PORT, SINK_PORT = BASE + 66, BASE + 67, BASE + 68


def _connector(provisioned, tmp_path: Path, name: str, agency: str, *, port: int, body: str,
               ) -> subprocess.Popen[bytes]:  # fmt: skip
    config = tmp_path / f"{name}.toml"
    config.write_text(
        f'name = "{name}"\nagency = "{agency}"\nstate_dir = "{tmp_path / name}"\n'
        f"metrics_port = {port}\n{body}"
    )
    settings = provisioned.kafka_as(agency)
    env = {**kafka_env(settings),
           "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent)}
    with (tmp_path / f"{name}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "exchange.cli.main", "connect", "run", str(config)],
            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )


async def _acknowledge(provisioned, codec, dispatch: SightingDispatch) -> None:
    agency = dispatch.target.agencyId
    async with Publisher(
        provisioned.kafka_as(agency), codec, provisioned.topology, agency=agency,
        source=f"/agencies/{agency}/test", metrics=BusMetrics.on(CollectorRegistry()),
        protection=provisioned.protection_for(agency),
    ) as publisher:
        await publisher.publish(DispatchAcknowledgement(
            dispatchId=dispatch.dispatchId, sightingId=dispatch.sightingId,
            unit=dispatch.target, acknowledgedAt=datetime.now(UTC),
        ))


def _status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback http
        return int(response.status)


def _has_number(result: list[dict[str, object]]) -> bool:
    return any(not math.isnan(float(r["value"][1])) for r in result)  # type: ignore[index]


async def test_every_panel_query_returns_data(stack, provisioned, codec, tmp_path) -> None:
    run = uuid.uuid4().hex[:6]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "secret").write_text(new_secret())  # the Standard Webhooks format
    worker = start_worker(provisioned, "--time-scale", "60", "--metrics-port", str(WORKER_PORT))
    drop = _connector(provisioned, tmp_path, f"drop-{run}", "transport", port=DROP_PORT,
                      body=f'kind = "file-drop"\ninbox = "{inbox}"\n'
                      'event_type = "transport-sighting"\npoll_interval_s = 0.2\n')  # fmt: skip
    sink = _connector(provisioned, tmp_path, f"sink-{run}", "police", port=SINK_PORT,
                      body=f'kind = "webhook"\ntopics = ["exchange.sighting.to.police"]\n'
                      f'url = "http://127.0.0.1:{WEBHOOK_PORT}/agency-system"\n'
                      f'secret_file = "{tmp_path / "secret"}"\n')  # fmt: skip
    try:
        wait_up = time.monotonic() + 90
        while len(query(stack, 'up{job=~"exchange-worker|exchange-connector"} == 1')) < 3:
            assert time.monotonic() < wait_up, "the worker and connectors were never scraped"
            await asyncio.sleep(1)
        for port in (DROP_PORT, SINK_PORT):  # the connectors are alive and ready
            for path in ("/healthz", "/readyz"):
                assert await asyncio.to_thread(_status, f"http://127.0.0.1:{port}{path}") == 200
        rows = [sighting(f"{kind}-{run}", facility=None, regionCode="610113")
                for kind in ("A1", "A2", "E")]  # fmt: skip
        lines = [json.dumps(r.model_dump(mode="json", exclude_none=True)) for r in rows]
        (inbox / f"batch-{run}.jsonl").write_text("\n".join([*lines, '{"sightingId": 1}']) + "\n")
        ids = {r.sightingId for r in rows}
        got = await dispatches(provisioned, codec, "police", ids, want=3, settle_s=0)
        first = {d.sightingId: d for d in got if d.kind.value == "RESPOND"}
        await _acknowledge(provisioned, codec, first[f"A1-{run}"])
        await asyncio.sleep(4)  # scraped once with one acknowledgement, then the second
        await _acknowledge(provisioned, codec, first[f"A2-{run}"])
        # A second batch, after a scrape saw the first: rates and quantiles need an increase.
        late = sighting(f"B-{run}", facility=None, regionCode="610113")
        (inbox / f"late-{run}.jsonl").write_text(
            json.dumps(late.model_dump(mode="json", exclude_none=True)) + "\n"
        )

        pending = {(name, panel.title, expr) for name, (_, panels) in DASHBOARDS.items()
                   for panel in panels for expr in panel.exprs}  # fmt: skip
        deadline = time.monotonic() + 120
        while pending and time.monotonic() < deadline:
            pending = {p for p in pending if not _has_number(query(stack, p[2]))}
            await asyncio.sleep(2)
        assert not pending, "panels without data:\n" + "\n".join(map(str, sorted(pending)))
    finally:
        for process in (drop, sink):
            process.send_signal(signal.SIGTERM)
        for process in (drop, sink):
            process.wait(30)
        stop_worker(worker)
