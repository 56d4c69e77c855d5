"""A real Prometheus, Alertmanager and lag monitor for the operations tests, beside the test
broker, with a webhook receiver for Alertmanager (shared by ``tests/operations``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from exchange.operations.assets import rule_files
from exchange.operations.scrape import ScrapePlan
from exchange.operations.settings import MonitoringSettings
from exchange.operations.stack import MonitoringStack
from exchange.settings import KafkaSettings

BASE = int(os.environ.get("EXCHANGE_TEST_BASE_PORT", "29092"))
WEBHOOK_PORT = BASE + 64


class Webhook:
    """Alertmanager's receiver: keeps every notification with the path it was sent to."""

    def __init__(self, port: int) -> None:
        received: list[tuple[str, dict[str, Any]]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    received.append((self.path, json.loads(body)))
                except ValueError:
                    received.append((self.path, {"raw": body.decode(errors="replace")}))
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


def kafka_env(settings: KafkaSettings) -> dict[str, str]:
    """The environment that makes an ``exchange`` process connect like ``settings``."""
    env = {**os.environ, "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": settings.bootstrap_servers,
           "EXCHANGE_KAFKA__SECURITY_PROTOCOL": settings.security_protocol,
           "EXCHANGE_KAFKA__USERNAME": settings.username or "",
           "EXCHANGE_KAFKA__PASSWORD":
               settings.password.get_secret_value() if settings.password else ""}  # fmt: skip
    if settings.ssl_cafile is not None:
        env["EXCHANGE_KAFKA__SSL_CAFILE"] = str(settings.ssl_cafile)
    return env


def webhook_fixture() -> Iterator[Webhook]:
    hook = Webhook(WEBHOOK_PORT)
    yield hook
    hook.close()


def stack_fixture(provisioned, tmp_path_factory) -> Iterator[MonitoringStack]:
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
    env = {**kafka_env(admin), "EXCHANGE_STATE_DIR": str(state)}
    monitoring = MonitoringStack(
        plan, monitor_command=[sys.executable, "-m", "exchange.cli.main", "monitor",
                               "--port", str(settings.monitor_port), "--interval", "1"],
        monitor_env=env, group_wait_s=1,
    )
    try:
        monitoring.up()
    except BaseException:
        monitoring.down()
        raise
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


