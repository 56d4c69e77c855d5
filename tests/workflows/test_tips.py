"""Tips routed by the sighting rules (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from exchange.examples.intake import example_public_tip
from exchange.models.common import Location, TransportFacility, TransportFacilityKind
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.workflows.tips import dispatch_tip

NOW = datetime(2025, 6, 5, 13, tzinfo=UTC)


def test_a_street_tip_goes_to_the_district_sub_bureau_without_the_tipster() -> None:
    dispatch = dispatch_tip(example_public_tip(), load_jurisdiction(), NOW)
    assert dispatch.target.unitId == "police.beilin"
    assert dispatch.rule == "region-code"
    assert "碑林区" in dispatch.reason
    assert "tipsterContact" not in dispatch.model_dump()
    assert dispatch.childAtRisk


def test_a_tip_at_the_airport_goes_to_the_aviation_police() -> None:
    tip = example_public_tip().model_copy(update={"location": Location(
        lat=34.4471, lon=108.7516,
        facility=TransportFacility(kind=TransportFacilityKind.AIRPORT),
    )})
    dispatch = dispatch_tip(tip, load_jurisdiction(), NOW)
    assert dispatch.target.agencyId == "aviation-police"
    assert dispatch.rule == "airport"


def test_a_tip_outside_xian_goes_to_the_command_centre_flagged() -> None:
    tip = example_public_tip().model_copy(update={"location": Location(lat=39.9, lon=116.4)})
    dispatch = dispatch_tip(tip, load_jurisdiction(), NOW)
    assert dispatch.target.unitId == "police.command-centre"
    assert dispatch.flagged
