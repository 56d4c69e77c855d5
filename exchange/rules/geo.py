"""WGS84 geometry the workflows need: great-circle distance and circles around a point."""

from __future__ import annotations

import math
from typing import NamedTuple

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


class Point(NamedTuple):
    """A WGS84 position in decimal degrees."""

    lat: float
    lon: float


def distance_km(a: Point, b: Point) -> float:
    """Great-circle (haversine) distance between two WGS84 points, in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def within_km(centre: Point, point: Point, radius_km: float) -> bool:
    """True when ``point`` lies inside the circle of ``radius_km`` around ``centre``."""
    return distance_km(centre, point) <= radius_km
