"""The Grafana dashboards: rendered files in step with the panels, valid PromQL, provisioning
that names the dashboards' datasource, and no registered metric left unwatched."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from exchange.operations.assets import GRAFANA_DIR, rule_files
from exchange.operations.dashboards import DATASOURCE, render
from exchange.operations.monitor import FAMILIES
from exchange.operations.panels import DASHBOARDS, DELIBERATELY_UNUSED

REPO = Path(__file__).resolve().parents[2]
REGISTERED = re.compile(
    r"\b(?:Counter|Gauge|Histogram|Summary|GaugeMetricFamily)\(\s*\"([a-z_:]+)\""
)


def registered_metrics() -> set[str]:
    """Every metric name the code registers (prometheus_client constructors, collectors'
    gauge families, and the lag monitor's collector families)."""
    names = {name for name, _, _ in FAMILIES.values()}
    for folder in ("exchange", "connectors"):
        for path in (REPO / folder).rglob("*.py"):
            names |= set(REGISTERED.findall(path.read_text()))
    return names


def panel_exprs() -> list[str]:
    return [expr for _, panels in DASHBOARDS.values() for panel in panels for expr in panel.exprs]


def rule_exprs() -> list[str]:
    exprs = []
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            exprs += [rule["expr"] for rule in group["rules"]]
    return exprs


def recorded() -> set[str]:
    names = set()
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            names |= {rule["record"] for rule in group["rules"] if "record" in rule}
    return names


def test_the_dashboard_files_are_rendered_from_the_panels() -> None:
    for name in DASHBOARDS:
        path = GRAFANA_DIR / "dashboards" / f"{name}.json"
        assert json.loads(path.read_text()) == render(name), (
            f"{path} is stale: run python -m exchange.operations.dashboards"
        )


def test_provisioning_names_the_dashboards_datasource() -> None:
    provisioning = GRAFANA_DIR / "provisioning"
    sources = yaml.safe_load((provisioning / "datasources" / "exchange.yml").read_text())
    [source] = sources["datasources"]
    assert (source["type"], source["uid"]) == (DATASOURCE["type"], DATASOURCE["uid"])
    providers = yaml.safe_load((provisioning / "dashboards" / "exchange.yml").read_text())
    assert providers["providers"][0]["type"] == "file"
    assert len(DASHBOARDS) == 6


def test_every_panel_query_is_valid_promql(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: .ci/run installs prometheus"
    rules = [{"record": f"panel:query:{i}", "expr": expr} for i, expr in enumerate(panel_exprs())]
    path = tmp_path / "panels.rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "panels", "rules": rules}]}))
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def _mentions(text: str, metric: str) -> bool:
    return re.search(rf"\b{re.escape(metric)}(?:_bucket|_sum|_count)?\b", text) is not None


def test_every_registered_metric_is_used_by_a_panel_or_rule_or_listed_as_unused() -> None:
    used = "\n".join(panel_exprs() + rule_exprs())
    registered = registered_metrics()
    assert len(registered) > 40
    unused = {m for m in registered if not _mentions(used, m)} - set(DELIBERATELY_UNUSED)
    assert not unused, f"metrics no panel or rule uses (use them or list why not): {unused}"
    assert set(DELIBERATELY_UNUSED) <= registered, "a deliberately unused metric is gone"


def test_every_exchange_metric_a_panel_or_rule_names_is_registered_or_recorded() -> None:
    names = set(re.findall(r"\b(exchange_[a-z_]+|exchange:[a-z_:0-9]+|kafka:[a-z_:0-9]+)",
                           "\n".join(panel_exprs() + rule_exprs())))  # fmt: skip
    known = registered_metrics() | recorded()
    unknown = {n for n in names if n not in known and n.removesuffix("_bucket") not in known}
    assert not unknown, f"queries name metrics nothing registers or records: {unknown}"
