from __future__ import annotations

import pytest

from exchange.rules.geo import Point, distance_km, within_km

BELL_TOWER = Point(34.2610, 108.9423)
XIAN_NORTH = Point(34.3773, 108.9393)
AIRPORT = Point(34.4471, 108.7516)


def test_distance_bell_tower_to_xian_north_is_about_13_km() -> None:
    assert distance_km(BELL_TOWER, XIAN_NORTH) == pytest.approx(12.9, abs=0.3)


def test_distance_is_symmetric_and_zero_on_the_spot() -> None:
    assert distance_km(AIRPORT, BELL_TOWER) == pytest.approx(distance_km(BELL_TOWER, AIRPORT))
    assert distance_km(AIRPORT, AIRPORT) == 0.0


def test_within_radius() -> None:
    assert within_km(BELL_TOWER, AIRPORT, 100)
    assert not within_km(BELL_TOWER, AIRPORT, 10)
