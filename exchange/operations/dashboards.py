"""Grafana dashboards (JSON, the format operators import or provision) from
:mod:`exchange.operations.panels`.

The rendered files live in ``grafana/dashboards/`` with Grafana's provisioning files in
``grafana/provisioning/``; a test fails when they drift from the panels. Regenerate them with
``python -m exchange.operations.dashboards``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from exchange.operations.assets import GRAFANA_DIR
from exchange.operations.panels import DASHBOARDS, Panel

__all__ = ["DATASOURCE", "render", "write_all"]

DATASOURCE = {"type": "prometheus", "uid": "exchange-prometheus"}
"""The datasource named in grafana/provisioning/datasources/exchange.yml."""


def _panel(number: int, panel: Panel) -> dict[str, Any]:
    return {
        "id": number,
        "type": panel.kind,
        "title": panel.title,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": 12 * ((number - 1) % 2), "y": 8 * ((number - 1) // 2)},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr,
             "legendFormat": panel.legend}
            for i, expr in enumerate(panel.exprs)
        ],
    }


def render(name: str) -> dict[str, Any]:
    title, panels = DASHBOARDS[name]
    return {
        "uid": f"exchange-{name}",
        "title": title,
        "tags": ["exchange"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "annotations": {"list": []},
        "templating": {"list": []},
        "links": [{"title": "Runbook", "type": "link", "icon": "doc",
                   "url": "exchange/operations/RUNBOOK.md"}],
        "panels": [_panel(i, panel) for i, panel in enumerate(panels, start=1)],
    }


def write_all(folder: Path = GRAFANA_DIR / "dashboards") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in DASHBOARDS:
        path = folder / f"{name}.json"
        path.write_text(json.dumps(render(name), indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(path)
