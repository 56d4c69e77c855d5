"""Where the operations data files of the installed package are (rules, dashboards, configs)."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

__all__ = [
    "GRAFANA_DIR", "JMX_EXPORTER_CONFIG", "OPERATIONS_DIR", "PROMETHEUS_DIR", "RULES_DIR",
    "RUNBOOK", "rule_files",
]


def _package_dir() -> Path:
    with as_file(files("exchange.operations")) as path:
        return Path(path)


OPERATIONS_DIR = _package_dir()
PROMETHEUS_DIR = OPERATIONS_DIR / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"
JMX_EXPORTER_CONFIG = PROMETHEUS_DIR / "jmx-exporter.yml"
GRAFANA_DIR = OPERATIONS_DIR / "grafana"
RUNBOOK = OPERATIONS_DIR / "RUNBOOK.md"


def rule_files() -> list[Path]:
    """The Prometheus rule files of the bus, in a stable order."""
    return sorted(RULES_DIR.glob("*.rules.yml"))
