"""The pure rules load no streaming or Kafka code: importing every module of ``exchange.rules``
in a fresh interpreter leaves no faust, mode, aiokafka or kafka module in ``sys.modules``."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("faust", "mode", "aiokafka", "kafka")

PROBE = """
import importlib, json, pkgutil, sys
import exchange.rules
names = [m.name for m in pkgutil.iter_modules(exchange.rules.__path__)]
for name in names:
    importlib.import_module("exchange.rules." + name)
print(json.dumps({"modules": names, "loaded": sorted(sys.modules)}))
"""


def loaded_by(code: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


def forbidden(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in FORBIDDEN]


def test_importing_the_rules_loads_no_faust_or_kafka() -> None:
    result = loaded_by(PROBE)
    assert {"geo", "jurisdiction", "routing", "referral_rules", "deadlines"} <= set(
        result["modules"]
    )
    assert forbidden(result["loaded"]) == []


def test_the_probe_would_see_kafka() -> None:
    """The same probe, after importing the Kafka client, reports it (it can fail)."""
    result = loaded_by("import aiokafka\n" + PROBE)
    assert "aiokafka" in forbidden(result["loaded"])
