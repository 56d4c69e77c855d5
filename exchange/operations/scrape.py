"""The Prometheus and Alertmanager configurations, generated from the cluster's layout, the
topology (one Alertmanager route per agency) and :class:`MonitoringSettings`.

Both are written as JSON, which is YAML too, so no YAML library is needed at run time.
Prometheus scrapes: itself; every broker's JMX exporter agent (job ``kafka``); and, through
file-based discovery, every process that announced itself (:mod:`exchange.operations.targets`):
workers, connectors (the gateway among them), the report service and the lag monitor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exchange.operations.settings import MonitoringSettings
from exchange.operations.targets import JOBS, targets_dir

__all__ = ["ScrapePlan", "alertmanager_config", "prometheus_config"]

SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class ScrapePlan:
    state_dir: Path
    brokers: list[str]
    """host:port of each broker's JMX exporter agent."""
    rule_files: list[Path]
    settings: MonitoringSettings = field(default_factory=MonitoringSettings)
    agencies: list[str] = field(default_factory=list)


def _seconds(value: float) -> str:
    return f"{round(value * 1000)}ms"


def prometheus_config(plan: ScrapePlan) -> dict[str, Any]:
    s = plan.settings
    jobs: list[dict[str, Any]] = [
        {"job_name": "prometheus",
         "static_configs": [{"targets": [f"127.0.0.1:{s.prometheus_port}"]}]},
        {"job_name": "kafka", "static_configs": [{"targets": list(plan.brokers)}]},
    ]  # fmt: skip
    for job in JOBS:
        config: dict[str, Any] = {
            "job_name": job,
            "file_sd_configs": [{
                "files": [str(targets_dir(plan.state_dir) / job / "*.json")],
                "refresh_interval": _seconds(min(5.0, s.scrape_interval_s)),
            }],
        }  # fmt: skip
        if s.static_targets.get(job):
            config["static_configs"] = [{"targets": s.static_targets[job]}]
        jobs.append(config)
    unknown = set(s.static_targets) - set(JOBS) - {"kafka"}
    if unknown:
        raise ValueError(f"static_targets: unknown job(s) {sorted(unknown)}; use {JOBS}")
    if s.static_targets.get("kafka"):
        jobs[1]["static_configs"][0]["targets"] += s.static_targets["kafka"]
    return {
        "global": {
            "scrape_interval": _seconds(s.scrape_interval_s),
            "scrape_timeout": _seconds(min(10.0, s.scrape_interval_s)),
            "evaluation_interval": _seconds(s.evaluation_interval_s),
            "external_labels": {"bus": "exchange"},
        },
        "rule_files": [str(path) for path in plan.rule_files],
        "alerting": {"alertmanagers": [
            {"static_configs": [{"targets": [f"127.0.0.1:{s.alertmanager_port}"]}]},
        ]},
        "scrape_configs": jobs,
    }


def _receiver(name: str, url: str | None) -> dict[str, Any]:
    if url is None:
        return {"name": name}
    return {"name": name, "webhook_configs": [{"url": url, "send_resolved": True}]}


def alertmanager_config(
    settings: MonitoringSettings, agencies: list[str], *, group_wait_s: float = 30.0
) -> dict[str, Any]:
    """Routing by severity and agency: ``info`` is only recorded; ``critical`` pages the on-call
    operator (``/oncall``) and goes on; an alert naming an agency then (also) reaches that
    agency's liaison (``/agency/<id>``); a warning naming no agency reaches the operators
    (``/operators``)."""
    base = settings.webhook_url.rstrip("/") if settings.webhook_url else None

    def url(path: str) -> str | None:
        return f"{base}/{path}" if base else None

    receivers = [_receiver("null", None), _receiver("oncall", url("oncall")),
                 _receiver("operators", url("operators"))]  # fmt: skip
    routes: list[dict[str, Any]] = [
        {"matchers": ['severity="info"'], "receiver": "null"},
        {"matchers": ['severity="critical"'], "receiver": "oncall", "continue": True,
         "group_wait": _seconds(min(group_wait_s, 10.0)), "repeat_interval": "1h"},
    ]  # fmt: skip
    for agency in agencies:
        receivers.append(_receiver(f"agency-{agency}", url(f"agency/{agency}")))
        routes.append({"matchers": [f'agency="{agency}"'], "receiver": f"agency-{agency}"})
    return {
        "route": {
            "receiver": "operators",
            "group_by": ["alertname", "agency"],
            "group_wait": _seconds(group_wait_s),
            "group_interval": _seconds(max(group_wait_s, 60.0)),
            "repeat_interval": "4h",
            "routes": routes,
        },
        # A broker down explains its partitions being under-replicated. (No inhibition between
        # ExchangeWorkerDown and ExchangeNoWorker: one names the instance, the other the scale.)
        "inhibit_rules": [
            {"source_matchers": ['alertname="KafkaBrokerDown"'],
             "target_matchers": ['alertname="KafkaUnderReplicatedPartitions"']},
        ],
        "receivers": receivers,
    }
