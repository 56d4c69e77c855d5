"""A real Prometheus and Alertmanager beside the real broker (``exchange monitoring``).

Prometheus scrapes the broker's JMX exporter agent, the lag monitor and a real worker, and its
HTTP API returns their data; a worker killed with SIGKILL fires ``ExchangeWorkerDown`` in
Prometheus, which reaches Alertmanager and, routed by severity, the webhook this test runs. The
test's copy of the rules has every ``for`` shortened to 2 s (and intervals of 1-2 s), nothing
else changed.
"""

from __future__ import annotations

import asyncio
import signal
import time
import urllib.error
import urllib.request
import uuid

import pytest
from support.monitoring import BASE, Webhook, get_json, query, wait_for
from support.worker import publish, sighting, start_worker

pytestmark = pytest.mark.broker

WORKER_METRICS_PORT = BASE + 65


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback http
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


async def _ready(url: str, timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _status(url) == 200:
            return True
        await asyncio.sleep(0.5)
    return False


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
        assert await _ready(f"http://{target}/readyz"), "the worker never had partitions"
        assert _status(f"http://{target}/healthz") == 200
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
    fired = stack.alerts_fired(300)  # what `exchange monitoring alerts` prints
    assert "ExchangeWorkerDown" in {a["alertname"] for a in fired}
    assert fired[0]["severity"] == "critical"
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
