"""A real Prometheus and Alertmanager beside the real broker (``exchange monitoring``).

Prometheus scrapes the broker's JMX exporter agent, the lag monitor and a real worker, and its
HTTP API returns their data; a worker killed with SIGKILL fires ``ExchangeWorkerDown`` in
Prometheus, which reaches Alertmanager and, routed by severity, the webhook this test runs. The
test's copy of the rules has every ``for`` shortened to 2 s (and intervals of 1-2 s), nothing
else changed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.worker import publish, sighting, start_worker

from exchange.operations.assets import rule_files
from exchange.operations.scrape import ScrapePlan
from exchange.operations.settings import MonitoringSettings
from exchange.operations.stack import MonitoringStack

pytestmark = pytest.mark.broker

BASE = int(os.environ.get("EXCHANGE_TEST_BASE_PORT", "29092"))
WEBHOOK_PORT = BASE + 64
WORKER_METRICS_PORT = BASE + 65


class Webhook:
    """Alertmanager's receiver: keeps every notification with the path it was sent to."""

    def __init__(self, port: int) -> None:
        received: list[tuple[str, dict[str, Any]]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _short_rules(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for path in rule_files():
        copy = folder / path.name
        copy.write_text(re.sub(r"(?m)^(\s+for:) \S+$", r"\1 2s", path.read_text()))
        copies.append(copy)
    return copies


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    hook = Webhook(WEBHOOK_PORT)
    yield hook
    hook.close()


@pytest.fixture(scope="module")
def stack(provisioned, webhook: Webhook, tmp_path_factory) -> Iterator[MonitoringStack]:
    state = provisioned.credentials.directory.parent
    shutil.rmtree(state / "monitoring", ignore_errors=True)
    settings = MonitoringSettings(
        prometheus_port=BASE + 60, alertmanager_port=BASE + 61, monitor_port=BASE + 62,
        scrape_interval_s=2, evaluation_interval_s=1,
        webhook_url=f"http://127.0.0.1:{WEBHOOK_PORT}",
    )
    cluster = provisioned.broker.cluster
    assert cluster is not None, "these tests run the broker themselves (its JMX agent)"
    plan = ScrapePlan(
        state, [f"{n.host}:{n.metrics_port}" for n in cluster.nodes],
        _short_rules(tmp_path_factory.mktemp("rules")), settings,
        [a.id for a in provisioned.topology.agencies],
    )
    admin = provisioned.broker.admin
    env = {**os.environ, "EXCHANGE_STATE_DIR": str(state),
           "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
           "EXCHANGE_KAFKA__USERNAME": admin.username or "",
           "EXCHANGE_KAFKA__PASSWORD": admin.password.get_secret_value() if admin.password else ""}
    monitoring = MonitoringStack(
        plan, monitor_command=[sys.executable, "-m", "exchange.cli.main", "monitor",
                               "--port", str(settings.monitor_port), "--interval", "1"],
        monitor_env=env, group_wait_s=1,
    )
    monitoring.up()
    yield monitoring
    assert set(monitoring.down()) == {"prometheus", "alertmanager", "monitor"}


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback http
        return json.load(response)


def query(stack: MonitoringStack, promql: str) -> list[dict[str, Any]]:
    answer = get_json(
        f"{stack.prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    )
    assert answer["status"] == "success", answer
    return list(answer["data"]["result"])


def wait_for(stack: MonitoringStack, promql: str, timeout_s: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = query(stack, promql)
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"no data for {promql} within {timeout_s} s")


def test_prometheus_scrapes_the_brokers_agent_and_the_lag_monitor(stack) -> None:
    [controller] = wait_for(stack, "kafka_controller_kafkacontroller_activecontrollercount")
    assert controller["value"][1] == "1"
    assert wait_for(stack, 'up{job="kafka"} == 1')
    assert wait_for(stack, 'up{job="exchange-monitor"} == 1')
    assert wait_for(stack, 'kafka_log_log_size{topic="exchange.sighting"}')
    assert wait_for(stack, "kafka_partition_latest_offset")
    rules = get_json(f"{stack.prometheus_url}/api/v1/rules")
    names = {r["name"] for g in rules["data"]["groups"] for r in g["rules"]}
    assert {"ExchangeWorkerDown", "KafkaNoActiveController", "EventsQuarantined"} <= names


async def test_a_killed_worker_fires_an_alert_that_reaches_the_webhook(
    stack, webhook: Webhook, provisioned, codec
) -> None:
    worker = start_worker(provisioned, "--metrics-port", str(WORKER_METRICS_PORT))
    try:
        target = f"127.0.0.1:{WORKER_METRICS_PORT}"
        wait_for(stack, f'up{{job="exchange-worker", instance="{target}"}} == 1', 90)
        sighting_id = f"ops-{uuid.uuid4().hex[:8]}"
        await publish(provisioned, codec, sighting(sighting_id))
        routed = wait_for(
            stack, f'sum by (agency) (exchange_sightings_routed_total{{instance="{target}"}})', 90
        )
        assert float(routed[0]["value"][1]) >= 1
        assert not query(stack, 'ALERTS{alertname="ExchangeWorkerDown"}')
    finally:
        worker.send_signal(signal.SIGKILL)  # a crash: no clean exit, the target file stays
        worker.wait()
    firing = wait_for(stack, 'ALERTS{alertname="ExchangeWorkerDown", alertstate="firing"}')
    assert firing[0]["metric"]["severity"] == "critical"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pages = [body for path, body in webhook.received if path == "/oncall"
                 and any(a["labels"]["alertname"] == "ExchangeWorkerDown" for a in body["alerts"])]
        if pages:
            break
        await asyncio.sleep(0.5)
    else:
        pytest.fail(f"no ExchangeWorkerDown page reached the webhook: {webhook.received}")
    [alert] = [a for a in pages[0]["alerts"] if a["labels"]["alertname"] == "ExchangeWorkerDown"]
    assert alert["status"] == "firing"
    assert alert["labels"]["instance"] == target
    assert alert["annotations"]["runbook_url"].endswith("#exchangeworkerdown")
    # The target file the killed worker left behind is what keeps the alert honest.
    stale = stack.plan.state_dir / "monitoring" / "targets" / "exchange-worker"
    assert (stale / f"127.0.0.1-{WORKER_METRICS_PORT}.json").is_file()
    (stale / f"127.0.0.1-{WORKER_METRICS_PORT}.json").unlink()
