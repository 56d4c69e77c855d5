"""The example events name agencies and units that exist in topology/ (demo and docs use them)."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.examples import example_json
from exchange.models.registry import EVENTS
from exchange.topology.loader import load_topology


def _agency_refs(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        found = [value] if "agencyId" in value else []
        return found + [ref for v in value.values() for ref in _agency_refs(v)]
    if isinstance(value, list):
        return [ref for v in value for ref in _agency_refs(v)]
    return []


@pytest.mark.parametrize("name", list(EVENTS))
def test_example_agencies_and_units_exist(name: str) -> None:
    topology = load_topology()
    for ref in _agency_refs(example_json(name)):
        agency = topology.agency(ref["agencyId"])
        if ref.get("unitId"):
            assert ref["unitId"] in {unit.id for unit in agency.units}, ref["unitId"]
