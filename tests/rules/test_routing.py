"""Each routing rule on realistic sightings built from the example event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from exchange.examples.core import example_transport_sighting
from exchange.models.common import TransportFacility
from exchange.models.common import TransportFacilityKind as Kind
from exchange.models.sightings import TransportSighting
from exchange.rules.jurisdiction import Jurisdiction, load_jurisdiction
from exchange.rules.routing import (
    ACK_DEADLINES,
    AVIATION_POLICE,
    METRO_POLICE,
    RAILWAY_POLICE,
    Priority,
    RoutingDecision,
    Target,
    ack_deadline,
    route_sighting,
)
from exchange.topology.loader import load_topology

XIAN_NORTH = (34.3773, 108.9393)
XIAN_STATION = (34.2786, 108.9626)
AIRPORT = (34.4471, 108.7516)
XIAOZHAI = (34.2235, 108.9474)
DAYANTA_SQUARE = (34.2180, 108.9640)  # a street near the Big Wild Goose Pagoda, Yanta
BEIJING = (39.9042, 116.4074)
ON_THE_LINE_IN_HUYI = (34.1350, 108.6400)  # Xi'an-Chengdu high-speed line, between stations


@pytest.fixture(scope="module")
def jurisdiction() -> Jurisdiction:
    return load_jurisdiction()


def sighting(
    where: tuple[float, float],
    facility: TransportFacility | None,
    region: str | None = None,
    address: str | None = None,
    **update: Any,
) -> TransportSighting:
    base = example_transport_sighting()
    location = base.location.model_copy(
        update={
            "lat": where[0],
            "lon": where[1],
            "regionCode": region,
            "address": address,
            "facility": facility,
        }
    )
    return base.model_copy(update={"location": location, **update})


def assert_audit_safe(decision: RoutingDecision) -> None:
    """The reason names rule, facility, codes and region: nothing about a person."""
    base = example_transport_sighting()
    texts = [decision.reason, decision.intercept_reason or ""]
    assert f"rule {decision.rule}" in decision.reason
    personal = [
        base.reporterStaffId or "",
        base.reporter.displayName or "",
        base.situation[:20],
        "red T-shirt",
        "grey jacket",
        "black coat",
        "crying",
        "platform",
        base.sightingId,
    ]
    for text in texts:
        for word in personal:
            assert word not in text, (word, text)


def test_example_train_at_xian_north_goes_to_the_station_post(
    jurisdiction: Jurisdiction,
) -> None:
    decision = route_sighting(example_transport_sighting(), jurisdiction)
    assert decision.target == Target(RAILWAY_POLICE, "railway-police.xian-north-station")
    assert decision.rule == "railway-facility"
    assert "G87" in decision.reason
    assert "EAY" in decision.reason
    # Next stop Hanzhong is outside Xi'an: the bureau forwards it, a human looks.
    assert decision.intercept == Target(RAILWAY_POLICE, None)
    assert decision.intercept_reason is not None
    assert "next stop outside Xi'an: forward to the railway police there" in (
        decision.intercept_reason
    )
    assert "汉中" in decision.intercept_reason
    assert decision.flagged
    assert_audit_safe(decision)


def test_railway_station_by_telegraph_code(jurisdiction: Jurisdiction) -> None:
    station = TransportFacility(kind=Kind.RAILWAY_STATION, code="XAY")
    decision = route_sighting(sighting(XIAN_STATION, station, "610102"), jurisdiction)
    assert decision.target == Target(RAILWAY_POLICE, "railway-police.xian-station")
    assert decision.rule == "railway-facility"
    assert not decision.flagged
    assert decision.intercept is None
    assert_audit_safe(decision)


def test_railway_station_by_name_without_a_post_goes_to_the_bureau(
    jurisdiction: Jurisdiction,
) -> None:
    station = TransportFacility(kind=Kind.RAILWAY_STATION, name="阿房宫站")
    decision = route_sighting(sighting((34.30, 108.90), station, "610112"), jurisdiction)
    assert decision.target == Target(RAILWAY_POLICE, None)
    assert "阿房宫站" in decision.reason
    assert not decision.flagged


def test_moving_train_with_next_stop_in_xian(jurisdiction: Jurisdiction) -> None:
    train = TransportFacility(
        kind=Kind.TRAIN, code="G88", name="G88 Chengdu East - Beijing West",
        nextStop="西安北站 Xi'an North",
    )  # fmt: skip
    decision = route_sighting(sighting(ON_THE_LINE_IN_HUYI, train), jurisdiction)
    # Between stations: the railway police bureau, not a district sub-bureau.
    assert decision.target == Target(RAILWAY_POLICE, None)
    assert decision.rule == "railway-facility"
    assert decision.intercept == Target(RAILWAY_POLICE, "railway-police.xian-north-station")
    assert decision.intercept_reason is not None
    assert "outside" not in decision.intercept_reason
    assert not decision.flagged
    assert_audit_safe(decision)


def test_moving_train_with_unknown_next_stop(jurisdiction: Jurisdiction) -> None:
    train = TransportFacility(kind=Kind.TRAIN, code="K1234", nextStop="宝鸡 Baoji")
    decision = route_sighting(sighting(ON_THE_LINE_IN_HUYI, train), jurisdiction)
    assert decision.intercept == Target(RAILWAY_POLICE, None)
    assert decision.intercept_reason is not None
    assert "not a known station" in decision.intercept_reason
    assert "forward to the railway police there" in decision.intercept_reason
    assert decision.flagged


def test_train_outside_xian_is_flagged(jurisdiction: Jurisdiction) -> None:
    train = TransportFacility(kind=Kind.TRAIN, code="G87")
    decision = route_sighting(sighting(BEIJING, train, "110105"), jurisdiction)
    assert decision.target == Target(RAILWAY_POLICE, None)
    assert decision.flagged
    assert "110105" in decision.reason


@pytest.mark.parametrize(
    "facility",
    [
        TransportFacility(kind=Kind.AIRPORT, code="XIY", name="T3"),
        TransportFacility(kind=Kind.AIRPORT, name="西安咸阳国际机场 T3"),
        TransportFacility(kind=Kind.FLIGHT, code="MU2101", nextStop="Beijing Capital"),
    ],
)
def test_airport_and_flight_go_to_aviation_police(
    jurisdiction: Jurisdiction, facility: TransportFacility
) -> None:
    decision = route_sighting(sighting(AIRPORT, facility, "610404"), jurisdiction)
    assert decision.target == Target(AVIATION_POLICE, None)
    assert decision.rule == "airport"
    assert "XIY" in decision.reason
    assert not decision.flagged
    assert decision.intercept is None
    assert_audit_safe(decision)


def test_unknown_airport_is_flagged(jurisdiction: Jurisdiction) -> None:
    facility = TransportFacility(kind=Kind.AIRPORT, code="PEK")
    decision = route_sighting(sighting(BEIJING, facility, "110105"), jurisdiction)
    assert decision.target == Target(AVIATION_POLICE, None)
    assert decision.flagged


@pytest.mark.parametrize(
    "facility",
    [
        TransportFacility(kind=Kind.METRO_STATION, name="小寨 Xiaozhai", code="L2-15"),
        TransportFacility(kind=Kind.METRO_TRAIN, code="L3-0412"),
    ],
)
def test_metro_goes_to_metro_police(
    jurisdiction: Jurisdiction, facility: TransportFacility
) -> None:
    decision = route_sighting(sighting(XIAOZHAI, facility, "610113"), jurisdiction)
    assert decision.target == Target(METRO_POLICE, None)
    assert decision.rule == "metro"
    assert "小寨" in decision.reason
    assert not decision.flagged
    assert_audit_safe(decision)


def test_district_street_by_region_code(jurisdiction: Jurisdiction) -> None:
    decision = route_sighting(
        sighting(DAYANTA_SQUARE, None, "610113", address="雁塔南路 a street"), jurisdiction
    )
    assert decision.target == Target("police", "police.yanta")
    assert decision.rule == "region-code"
    assert "610113" in decision.reason
    assert "雁塔南路" not in decision.reason
    assert not decision.flagged
    assert_audit_safe(decision)


def test_region_code_wins_over_coordinates(jurisdiction: Jurisdiction) -> None:
    decision = route_sighting(sighting(XIAN_NORTH, None, "610113"), jurisdiction)
    assert decision.target == Target("police", "police.yanta")


def test_district_by_coordinates_only(jurisdiction: Jurisdiction) -> None:
    decision = route_sighting(sighting(DAYANTA_SQUARE, None), jurisdiction)
    assert decision.target == Target("police", "police.yanta")
    assert decision.rule == "coordinates"
    assert "by coordinates, approximate" in decision.reason
    assert "34.2" not in decision.reason  # whereabouts stay out of the audit text
    assert_audit_safe(decision)


def test_city_level_code_falls_back_to_coordinates(jurisdiction: Jurisdiction) -> None:
    decision = route_sighting(sighting((34.52, 109.09), None, "610100"), jurisdiction)
    assert decision.target == Target("police", "police.gaoling")
    assert decision.rule == "coordinates"


def test_point_between_two_seats_is_flagged(jurisdiction: Jurisdiction) -> None:
    xincheng = jurisdiction.district("610102")
    lianhu = jurisdiction.district("610104")
    assert xincheng is not None
    assert lianhu is not None
    middle = ((xincheng.lat + lianhu.lat) / 2, (xincheng.lon + lianhu.lon) / 2)
    decision = route_sighting(sighting(middle, None), jurisdiction)
    assert decision.rule == "coordinates"
    assert decision.flagged
    assert "check" in decision.reason


def test_outside_xian_goes_to_the_command_centre_flagged(jurisdiction: Jurisdiction) -> None:
    decision = route_sighting(sighting(BEIJING, None, "110105"), jurisdiction)
    assert decision.target == Target("police", "police.command-centre")
    assert decision.rule == "outside-xian"
    assert decision.flagged
    assert "110105" in decision.reason
    assert decision.intercept is None
    assert_audit_safe(decision)


def test_bus_station_routes_like_its_district(jurisdiction: Jurisdiction) -> None:
    station = TransportFacility(kind=Kind.BUS_STATION, name="城南客运站")
    by_region = route_sighting(sighting((34.1960, 108.9490), station, "610113"), jurisdiction)
    assert by_region.target == Target("police", "police.yanta")
    assert by_region.rule == "region-code"
    # No region code: the known station's own region decides.
    by_station = route_sighting(sighting((34.1960, 108.9490), station), jurisdiction)
    assert by_station.target == Target("police", "police.yanta")
    assert "bus station" in by_station.reason
    coach = TransportFacility(kind=Kind.COACH, code="SA-12345", nextStop="汉中")
    on_coach = route_sighting(sighting((34.2740, 108.8900), coach), jurisdiction)
    assert on_coach.target == Target("police", "police.lianhu")
    assert on_coach.rule == "coordinates"
    assert on_coach.intercept is None


def test_fallback_agencies_and_units_exist_in_the_topology(jurisdiction: Jurisdiction) -> None:
    topology = load_topology()
    for agency_id in (RAILWAY_POLICE, AVIATION_POLICE, METRO_POLICE):
        topology.agency(agency_id)
    assert jurisdiction.city.unit in {u.id for u in topology.agency("police").units}


def test_ack_deadline() -> None:
    at_risk = example_transport_sighting()
    assert at_risk.childAtRisk
    assert ack_deadline(at_risk) == timedelta(minutes=5)
    routine = at_risk.model_copy(update={"childAtRisk": False})
    assert ack_deadline(routine) == timedelta(minutes=30)
    stricter = {**ACK_DEADLINES, Priority.ROUTINE: timedelta(minutes=15)}
    assert ack_deadline(routine, stricter) == timedelta(minutes=15)
