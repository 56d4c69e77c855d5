"""Which police unit a transport sighting goes to, and how fast it must be acknowledged.

Pure rules over a :class:`~exchange.models.sightings.TransportSighting` and the
:class:`~exchange.rules.jurisdiction.Jurisdiction` data; no Kafka. The first rule that
applies decides (its id is ``RoutingDecision.rule``):

1. ``railway-facility``: a TRAIN or RAILWAY_STATION → railway police: the post of the known
   station (a train within :data:`STATION_RADIUS_KM` of one is at it), else the bureau;
2. ``airport``: an AIRPORT or FLIGHT → aviation police;
3. ``metro``: a METRO_STATION or METRO_TRAIN → metro police;
4. ``bus-station``: a known BUS_STATION that the data gives a unit of its own;
5. ``region-code``: a GB/T 2260 code of a Xi'an district (the sighting's, else that of the
   known bus station) → that district's sub-bureau or county bureau;
6. ``coordinates``: a point inside a district's circle → that district's unit (approximate);
7. ``outside-xian``: anything else → the city command centre, flagged.

A TRAIN with a ``nextStop`` also gets an ``intercept`` target: the railway police at that
stop when it is a known Xi'an station, else the railway police bureau, flagged, to forward the
request to the railway police there.

Reasons are for the audit trail and name only facilities, codes, regions, units and the rule:
never a person, a description, a staff id or free text of the sighting.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Final, NamedTuple

from exchange.models.common import Location, TransportFacility, TransportFacilityKind
from exchange.models.sightings import TransportSighting
from exchange.rules.geo import Point, distance_km
from exchange.rules.jurisdiction import Facility, Jurisdiction

__all__ = [
    "ACK_DEADLINES",
    "AIRPORT_RADIUS_KM",
    "AMBIGUOUS_RATIO",
    "AVIATION_POLICE",
    "METRO_POLICE",
    "RAILWAY_POLICE",
    "STATION_RADIUS_KM",
    "Priority",
    "RoutingDecision",
    "Target",
    "ack_deadline",
    "priority",
    "route_sighting",
]

RAILWAY_POLICE: Final = "railway-police"
AVIATION_POLICE: Final = "aviation-police"
METRO_POLICE: Final = "metro-police"

STATION_RADIUS_KM: Final = 1.0
"""A train, or a station not named in the sighting, within this distance is at the station."""
AIRPORT_RADIUS_KM: Final = 3.0
"""A flight, or an airport not named in the sighting, within this distance is at the airport."""
AMBIGUOUS_RATIO: Final = 1.25
"""By coordinates: when the second-nearest district's seat is within this factor of the
nearest one's distance, the point may lie in either and the decision is flagged."""

_Kind = TransportFacilityKind
_RAIL: Final = frozenset({_Kind.TRAIN, _Kind.RAILWAY_STATION})
_AIR: Final = frozenset({_Kind.AIRPORT, _Kind.FLIGHT})
_METRO: Final = frozenset({_Kind.METRO_STATION, _Kind.METRO_TRAIN})
_VEHICLES: Final = frozenset({_Kind.TRAIN, _Kind.FLIGHT, _Kind.METRO_TRAIN, _Kind.COACH})
_NEXT_STOP_OUTSIDE: Final = "next stop outside Xi'an: forward to the railway police there"


class Target(NamedTuple):
    """Who receives a routed sighting: an agency and, when known, one of its units."""

    agency_id: str
    unit_id: str | None

    def __str__(self) -> str:
        return self.unit_id or self.agency_id


@dataclass(frozen=True)
class RoutingDecision:
    """The responsible unit for one sighting, the rule that chose it and why.

    ``flagged`` asks a human to look: the place is outside Xi'an, the facility is unknown, the
    district is a guess between two, or the intercept must be forwarded beyond Xi'an.
    """

    target: Target
    rule: str
    reason: str
    flagged: bool
    intercept: Target | None = None
    intercept_reason: str | None = None


class Priority(enum.StrEnum):
    """How urgent a sighting is; selects the acknowledgement deadline."""

    CHILD_AT_RISK = "child-at-risk"
    ROUTINE = "routine"


ACK_DEADLINES: Final[Mapping[Priority, timedelta]] = MappingProxyType(
    {
        Priority.CHILD_AT_RISK: timedelta(minutes=5),
        Priority.ROUTINE: timedelta(minutes=30),
    }
)
"""Defaults: within 5 minutes a child at risk can still be met at the station or the next
stop; 30 minutes for the rest. Operators pass their own table to :func:`ack_deadline`."""


def priority(sighting: TransportSighting) -> Priority:
    return Priority.CHILD_AT_RISK if sighting.childAtRisk else Priority.ROUTINE


def ack_deadline(
    sighting: TransportSighting, deadlines: Mapping[Priority, timedelta] = ACK_DEADLINES
) -> timedelta:
    """How long the responsible unit has to acknowledge ``sighting``."""
    return deadlines[priority(sighting)]


@dataclass(frozen=True)
class _Decided:
    target: Target
    rule: str
    what: str
    flagged: bool
    note: str = ""


def route_sighting(sighting: TransportSighting, jurisdiction: Jurisdiction) -> RoutingDecision:
    """Choose exactly one responsible police unit for ``sighting`` (see the module doc)."""
    location = sighting.location
    facility = location.facility
    kind = facility.kind if facility is not None else None
    if facility is not None and kind in _RAIL:
        decided = _railway(facility, location, jurisdiction)
    elif facility is not None and kind in _AIR:
        decided = _airport(facility, location, jurisdiction)
    elif facility is not None and kind in _METRO:
        decided = _metro(facility, location, jurisdiction)
    else:
        decided = _place(facility, location, jurisdiction)
    note = f"; {decided.note}" if decided.note else ""
    reason = f"{decided.what} → {decided.target} (rule {decided.rule}){note}"
    intercept = intercept_reason = None
    intercept_flagged = False
    if facility is not None and kind is _Kind.TRAIN and facility.nextStop:
        intercept, intercept_reason, intercept_flagged = _intercept(facility, jurisdiction)
    return RoutingDecision(
        target=decided.target,
        rule=decided.rule,
        reason=reason,
        flagged=decided.flagged or intercept_flagged,
        intercept=intercept,
        intercept_reason=intercept_reason,
    )


# ---------------------------------------------------------------- rules


def _railway(
    facility: TransportFacility, location: Location, jurisdiction: Jurisdiction
) -> _Decided:
    station = _identify(facility, location, jurisdiction, _Kind.RAILWAY_STATION, STATION_RADIUS_KM)
    what = _what(facility, station) + ("" if station else " (not at a known station)")
    if station is not None and station.in_xian:
        return _Decided(_target_of(station, RAILWAY_POLICE), "railway-facility", what, False)
    if station is not None:
        return _Decided(
            Target(RAILWAY_POLICE, None), "railway-facility", what, True,
            f"station outside Xi'an (region {station.region}): forward to the railway police there",
        )  # fmt: skip
    if _in_xian(location, jurisdiction):
        return _Decided(Target(RAILWAY_POLICE, None), "railway-facility", what, False)
    return _Decided(
        Target(RAILWAY_POLICE, None), "railway-facility", what, True,
        f"{_where(location)} outside Xi'an: forward to the railway police there",
    )  # fmt: skip


def _airport(
    facility: TransportFacility, location: Location, jurisdiction: Jurisdiction
) -> _Decided:
    airport = _identify(facility, location, jurisdiction, _Kind.AIRPORT, AIRPORT_RADIUS_KM)
    what = _what(facility, airport)
    if airport is not None:
        return _Decided(_target_of(airport, AVIATION_POLICE), "airport", what, False)
    return _Decided(
        Target(AVIATION_POLICE, None), "airport", what, True,
        "not at an airport the jurisdiction data knows: check which aviation police answer",
    )  # fmt: skip


def _metro(facility: TransportFacility, location: Location, jurisdiction: Jurisdiction) -> _Decided:
    station = _identify(facility, location, jurisdiction, _Kind.METRO_STATION, 0.5)
    what = _what(facility, station)
    if station is not None or _in_xian(location, jurisdiction):
        return _Decided(_target_of(station, METRO_POLICE), "metro", what, False)
    return _Decided(
        Target(METRO_POLICE, None), "metro", what, True,
        f"{_where(location)} outside Xi'an: check that the Xi'an metro police answer",
    )  # fmt: skip


def _place(
    facility: TransportFacility | None, location: Location, jurisdiction: Jurisdiction
) -> _Decided:
    station = None
    if facility is not None and facility.kind is _Kind.BUS_STATION:
        station = _identify(facility, location, jurisdiction, _Kind.BUS_STATION, 0.5)
    what = _what(facility, station) if facility is not None else "place"
    if station is not None and station.agency is not None:
        return _Decided(_target_of(station, station.agency), "bus-station", what, False)
    for code, source in (
        (location.regionCode, "region"),
        (station.region if station is not None else None, "region of the bus station"),
    ):
        district = jurisdiction.district(code) if code else None
        if district is not None:
            what = f"{what} in {source} {district.code} {district.name_zh} {district.name_en}"
            return _Decided(Target("police", district.unit), "region-code", what, False)
    point = Point(location.lat, location.lon)
    district = jurisdiction.district_at(point)
    if district is not None:
        ambiguous = _ambiguous(point, jurisdiction)
        note = "by coordinates, approximate (nearest district seat)"
        if ambiguous:
            note += f"; may be {ambiguous}: check"
        what = f"{what} in {district.code} {district.name_zh} {district.name_en}"
        return _Decided(Target("police", district.unit), "coordinates", what, bool(ambiguous), note)
    city = jurisdiction.city
    region = f"region {location.regionCode}" if location.regionCode else "no region code"
    what = f"{what} ({region}, coordinates outside Xi'an)"
    return _Decided(
        Target(city.unit.split(".", 1)[0], city.unit), "outside-xian", what, True,
        "outside Xi'an: the command centre decides whom to pass it to",
    )  # fmt: skip


def _intercept(facility: TransportFacility, jurisdiction: Jurisdiction) -> tuple[Target, str, bool]:
    next_stop = facility.nextStop or ""
    kinds = (_Kind.RAILWAY_STATION,)
    station = jurisdiction.facility_by_code(next_stop, kinds) or jurisdiction.facility_by_name(
        next_stop, kinds
    )
    train = _what(facility, None)
    if station is not None and station.in_xian:
        target = _target_of(station, RAILWAY_POLICE)
        return target, f"{train}: next stop {station.label} → {target} (intercept)", False
    if station is not None:
        stop = f"{station.label} (region {station.region})"
    else:
        stop = f"{_safe(next_stop, 40)!r} (not a known station of Xi'an)"
    reason = f"{train}: next stop {stop} → {RAILWAY_POLICE}; {_NEXT_STOP_OUTSIDE}"
    return Target(RAILWAY_POLICE, None), reason, True


# ---------------------------------------------------------------- helpers


def _identify(
    facility: TransportFacility,
    location: Location,
    jurisdiction: Jurisdiction,
    kind: TransportFacilityKind,
    radius_km: float,
) -> Facility | None:
    """The known facility of ``kind`` the sighting is at.

    A station (not a vehicle) is looked up by its code, then name, then address; a vehicle only
    by position: a train's name names its terminus, not where it is.
    """
    kinds = (kind,)
    if facility.kind not in _VEHICLES:
        found = (
            (facility.code and jurisdiction.facility_by_code(facility.code, kinds))
            or (facility.name and jurisdiction.facility_by_name(facility.name, kinds))
            or (location.address and jurisdiction.facility_by_name(location.address, kinds))
        )
        if found:
            return found
    near = jurisdiction.facilities_within(Point(location.lat, location.lon), radius_km, kinds)
    return near[0] if near else None


def _target_of(facility: Facility | None, default_agency: str) -> Target:
    if facility is None or facility.agency is None:
        return Target(default_agency, None)
    return Target(facility.agency, facility.unit)


def _in_xian(location: Location, jurisdiction: Jurisdiction) -> bool:
    if location.regionCode is not None:
        return jurisdiction.is_in_xian(location.regionCode)
    return jurisdiction.is_in_xian(Point(location.lat, location.lon))


def _where(location: Location) -> str:
    if location.regionCode is not None:
        return f"region {location.regionCode}"
    return "position"  # never the coordinates: they are a person's whereabouts


def _what(facility: TransportFacility | None, known: Facility | None) -> str:
    """``train G87 at 西安北站 Xi'an North (EAY)``: kind, code and the data's own names only."""
    if facility is None:
        return "place"
    text = facility.kind.value.lower().replace("_", " ")
    if facility.code:
        text += f" {_safe(facility.code, 16)}"
    if known is not None:
        text += f" at {known.label}"
    return text


def _safe(text: str, limit: int) -> str:
    """Keep a code or stop name printable and short: letters, digits, CJK, space, - and '."""
    return re.sub(r"[^\w\s'\-]", "", text, flags=re.UNICODE).strip()[:limit]


def _ambiguous(point: Point, jurisdiction: Jurisdiction) -> str | None:
    ranked = sorted(jurisdiction.districts, key=lambda d: distance_km(d.point, point))
    first, second = ranked[0], ranked[1]
    if distance_km(second.point, point) <= AMBIGUOUS_RATIO * distance_km(first.point, point):
        return f"{second.code} {second.name_en}"
    return None
