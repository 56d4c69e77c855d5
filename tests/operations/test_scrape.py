"""The generated Prometheus and Alertmanager configurations, checked by the real tools
(``promtool check config``, ``amtool check-config``, ``amtool config routes test``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from exchange.operations.assets import rule_files
from exchange.operations.scrape import ScrapePlan, alertmanager_config, prometheus_config
from exchange.operations.settings import MonitoringSettings
from exchange.topology.loader import load_topology

AGENCIES = [a.id for a in load_topology().agencies]
SETTINGS = MonitoringSettings(
    webhook_url="http://127.0.0.1:9999/hooks",
    static_targets={"exchange-worker": ["10.0.0.5:9101"], "kafka": ["10.0.0.6:7071"]},
)


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: .ci/run installs prometheus and prometheus-alertmanager"
    return found


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_prometheus_config_passes_promtool(tmp_path: Path) -> None:
    plan = ScrapePlan(tmp_path, ["127.0.0.1:19142"], rule_files(), SETTINGS, AGENCIES)
    config = prometheus_config(plan)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"prometheus", "kafka", "exchange-worker", "exchange-connector",
                         "exchange-report", "exchange-monitor", "exchange-notary"}
    assert jobs["kafka"]["static_configs"][0]["targets"] == ["127.0.0.1:19142", "10.0.0.6:7071"]
    assert jobs["exchange-worker"]["static_configs"][0]["targets"] == ["10.0.0.5:9101"]
    assert jobs["exchange-worker"]["file_sd_configs"][0]["files"] == [
        str(tmp_path / "monitoring" / "targets" / "exchange-worker" / "*.json")
    ]
    path = tmp_path / "prometheus.yml"
    path.write_text(json.dumps(config))
    _run(_tool("promtool"), "check", "config", str(path))


def test_an_unknown_job_in_the_settings_is_refused(tmp_path: Path) -> None:
    settings = MonitoringSettings(static_targets={"workers": ["10.0.0.5:9101"]})
    with pytest.raises(ValueError, match="static_targets: unknown job"):
        prometheus_config(ScrapePlan(tmp_path, [], [], settings))


@pytest.mark.parametrize(("labels", "receivers"), [
    (["severity=critical", "alertname=ExchangeWorkerDown"], "oncall"),
    (["severity=critical", "agency=police", "alertname=SightingDispatchEscalated"],
     "oncall,agency-police"),
    (["severity=warning", "agency=civil-affairs", "alertname=ReferralsOverdue"],
     "agency-civil-affairs"),
    (["severity=warning", "alertname=ConnectorErrors"], "operators"),
    (["severity=info", "agency=police"], "null"),
])
def test_alertmanager_routes_by_severity_and_agency(
    tmp_path: Path, labels: list[str], receivers: str
) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(json.dumps(alertmanager_config(SETTINGS, AGENCIES)))
    amtool = _tool("amtool")
    _run(amtool, "check-config", str(path))
    routed = _run(amtool, "config", "routes", "test", f"--config.file={path}", *labels)
    assert routed.strip() == receivers


def test_every_agency_of_the_topology_has_its_receiver() -> None:
    config = alertmanager_config(SETTINGS, AGENCIES)
    urls = {r["name"]: r["webhook_configs"][0]["url"] for r in config["receivers"]
            if "webhook_configs" in r}
    for agency in AGENCIES:
        assert urls[f"agency-{agency}"] == f"http://127.0.0.1:9999/hooks/agency/{agency}"
    assert "null" in {r["name"] for r in config["receivers"]}
