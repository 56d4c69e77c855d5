"""The Prometheus rules: valid (promtool check), behaving as intended (promtool test), and each
alert complete (for, severity, summary, a runbook section that exists, a unit test of its own)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from exchange.operations.assets import RULES_DIR, RUNBOOK, rule_files

TESTS = Path(__file__).parent / "prometheus"
SEVERITIES = {"critical", "warning", "info"}


def _promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: install Debian's prometheus package (.ci/run does)"
    return found


def _alerts() -> list[dict[str, Any]]:
    alerts = []
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            alerts += [rule for rule in group["rules"] if "alert" in rule]
    return alerts


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    headings = re.findall(r"^#{1,6} (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


def test_rule_files_pass_promtool_check() -> None:
    files = rule_files()
    assert len(files) >= 2
    result = subprocess.run(
        [_promtool(), "check", "rules", *map(str, files)], capture_output=True, text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", sorted(TESTS.glob("*.test.yml")), ids=lambda p: p.name)
def test_rules_pass_their_promtool_unit_tests(test_file: Path) -> None:
    result = subprocess.run(
        [_promtool(), "test", "rules", test_file.name], cwd=TESTS, capture_output=True,
        text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_file_has_unit_tests() -> None:
    tested = set()
    for test_file in TESTS.glob("*.test.yml"):
        for name in yaml.safe_load(test_file.read_text())["rule_files"]:
            tested.add((TESTS / name).resolve())
    assert {path.resolve() for path in rule_files()} <= tested
    assert RULES_DIR.resolve() in {path.parent for path in tested}


def test_every_alert_has_for_severity_summary_and_a_runbook_section() -> None:
    anchors = _anchors(RUNBOOK.read_text())
    alerts = _alerts()
    assert len(alerts) >= 20
    for rule in alerts:
        name = rule["alert"]
        assert "for" in rule, f"{name}: no `for`"
        assert rule["labels"]["severity"] in SEVERITIES, f"{name}: severity"
        assert rule["annotations"]["summary"].strip(), f"{name}: summary"
        url = rule["annotations"]["runbook_url"]
        path, _, anchor = url.partition("#")
        assert path == "exchange/operations/RUNBOOK.md", f"{name}: runbook_url {url}"
        assert anchor in anchors, f"{name}: the runbook has no section #{anchor}"


def test_every_alert_is_exercised_by_a_unit_test() -> None:
    exercised = set()
    for test_file in TESTS.glob("*.test.yml"):
        for case in yaml.safe_load(test_file.read_text())["tests"]:
            exercised |= {
                check["alertname"]
                for check in case.get("alert_rule_test", [])
                if check.get("exp_alerts")
            }
    missing = {rule["alert"] for rule in _alerts()} - exercised
    assert not missing, f"alerts never seen firing in a promtool test: {sorted(missing)}"
