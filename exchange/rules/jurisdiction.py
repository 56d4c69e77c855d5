"""Jurisdiction reference data: which police unit answers for a place in Xi'an.

``topology/jurisdiction.toml`` lists Xi'an's 13 districts and counties (GB/T 2260) with the
police unit of each and an approximate seat, the city command centre for everything else, and
transport facilities (railway stations, the airport, bus and metro stations) with their codes
and responsible police. :func:`load_jurisdiction` reads it into a frozen :class:`Jurisdiction`
and checks it against the topology (every unit it names is declared in ``agencies.toml``).

Pure data and look-ups, no Kafka; :mod:`exchange.rules.routing` builds decisions on it.
Problems in the file raise :class:`JurisdictionFileError` (a
:class:`~exchange.topology.exceptions.TopologyFileError`) naming the file and the entry.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exchange.models.common import TransportFacilityKind
from exchange.models.identifiers import Latitude, Longitude, RegionCode
from exchange.models.regions import XIAN_DISTRICTS
from exchange.rules.geo import Point, distance_km
from exchange.topology.exceptions import TopologyFileError
from exchange.topology.loader import default_topology_dir, load_topology
from exchange.topology.model import Topology
from exchange.topology.toml_file import only_tables, read_toml, validate_table

__all__ = [
    "JURISDICTION_FILE",
    "XIAN_PREFIX",
    "City",
    "District",
    "Facility",
    "Jurisdiction",
    "JurisdictionFileError",
    "load_jurisdiction",
]

JURISDICTION_FILE = "jurisdiction.toml"
XIAN_PREFIX = "6101"
"""GB/T 2260 codes of Xi'an and its divisions start with this."""


FacilityKindName = Literal["RAILWAY_STATION", "AIRPORT", "METRO_STATION", "BUS_STATION"]


class JurisdictionFileError(TopologyFileError):
    """``jurisdiction.toml`` cannot be read or names something that does not exist.

    ``path`` locates the entry, e.g. ``district[610113].unit`` or ``facility[rail.xian].lat``.
    """


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class City(_Frozen):
    """The city itself (西安市) and the unit for anything not placed in one of its districts."""

    code: RegionCode
    name_zh: str
    name_en: str
    unit: str


class District(_Frozen):
    """A district or county of Xi'an, its police unit and its approximate seat.

    ``radius_km`` is a small circle around the seat inside which a point counts as this
    district when only coordinates are known (see the file's ACCURACY note).
    """

    code: RegionCode
    name_zh: str
    name_en: str
    unit: str
    lat: Latitude
    lon: Longitude
    radius_km: float = Field(gt=0, le=100)
    note: str | None = None

    @property
    def point(self) -> Point:
        return Point(self.lat, self.lon)

    @model_validator(mode="after")
    def _a_xian_division(self) -> District:
        known = XIAN_DISTRICTS.get(self.code)
        if known is None:
            raise ValueError(f"{self.code} is not a district or county of Xi'an (GB/T 2260)")
        if known[0] != self.name_zh:
            raise ValueError(f"{self.code} is {known[0]}, not {self.name_zh}")
        return self


class Facility(_Frozen):
    """A station or airport: names, codes, position and the police responsible for it.

    ``agency``/``unit`` may be absent for a bus station: it is then policed like any place of
    its district (``region``).
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$")
    kind: FacilityKindName
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    lat: Latitude
    lon: Longitude
    approximate: bool
    region: RegionCode
    codes: dict[str, str] = Field(default_factory=dict)
    lines: tuple[str, ...] = ()
    agency: str | None = None
    unit: str | None = None
    note: str | None = None

    @property
    def point(self) -> Point:
        return Point(self.lat, self.lon)

    @property
    def in_xian(self) -> bool:
        return self.region.startswith(XIAN_PREFIX)

    @property
    def label(self) -> str:
        """Both names and the first code, for audit text: ``西安北站 Xi'an North (EAY)``."""
        code = next(iter(self.codes.values()), None)
        return f"{self.name_zh} {self.name_en}" + (f" ({code})" if code else "")

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name_zh, self.name_en, *self.aliases)

    @model_validator(mode="after")
    def _policed(self) -> Facility:
        if self.agency is None and self.kind != "BUS_STATION":
            raise ValueError(f"a {self.kind} needs the responsible police `agency`")
        if self.unit is not None:
            if self.agency is None:
                raise ValueError("`unit` needs `agency`")
            if not self.unit.startswith(self.agency + "."):
                raise ValueError(f"unit {self.unit!r} is not a unit of {self.agency!r}")
        return self


def _normalise(text: str) -> str:
    """Lower case, apostrophes dropped, runs of spaces/hyphens/punctuation made one space."""
    text = text.lower().replace("'", "").replace("\u2019", "")
    return re.sub(r"[\s\-_,;:/()\uff08\uff09]+", " ", text).strip()


def _contains(text: str, name: str) -> bool:
    """Whole-word match for Latin names (Xi'an is not in Xianyang), substring for Chinese."""
    if name.isascii():
        return re.search(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", text) is not None
    return name in text


class Jurisdiction(_Frozen):
    """Districts, facilities and the city fallback, with the look-ups routing needs."""

    city: City
    districts: tuple[District, ...]
    facilities: tuple[Facility, ...]

    def district(self, code: str) -> District | None:
        """The district or county with GB/T 2260 ``code``, or None (also for non-Xi'an codes)."""
        for district in self.districts:
            if district.code == code:
                return district
        return None

    def nearest_district(self, point: Point) -> District:
        """The district whose seat is nearest ``point``, however far (see :meth:`district_at`)."""
        return min(self.districts, key=lambda d: distance_km(d.point, point))

    def district_at(self, point: Point) -> District | None:
        """The nearest district whose circle holds ``point``, or None: not in Xi'an."""
        inside = [
            (distance, d)
            for d in self.districts
            if (distance := distance_km(d.point, point)) <= d.radius_km
        ]
        return min(inside, key=lambda pair: pair[0])[1] if inside else None

    def is_in_xian(self, where: Point | str) -> bool:
        """True for a point inside a district's circle, or a GB/T 2260 code ``6101xx``."""
        if isinstance(where, str):
            return where.startswith(XIAN_PREFIX)
        return self.district_at(where) is not None

    def facility(self, facility_id: str) -> Facility | None:
        for facility in self.facilities:
            if facility.id == facility_id:
                return facility
        return None

    def facility_by_code(
        self, code: str, kinds: Collection[TransportFacilityKind] | None = None
    ) -> Facility | None:
        """The facility with ``code`` (telegraph, IATA, ICAO, ...), case-insensitive."""
        wanted = code.strip().upper()
        for facility in self._of_kinds(kinds):
            if any(value.upper() == wanted for value in facility.codes.values()):
                return facility
        return None

    def facility_by_name(
        self, text: str, kinds: Collection[TransportFacilityKind] | None = None
    ) -> Facility | None:
        """The facility whose name (Chinese, English or alias) ``text`` contains.

        ``"汉中 Hanzhong"`` and ``"西安北站 Xi'an North"`` both match; the longest matching name
        wins, so ``"Xi'an North"`` is Xi'an North, not Xi'an. None when nothing matches.
        """
        haystack = _normalise(text)
        best: tuple[int, Facility] | None = None
        for facility in self._of_kinds(kinds):
            for name in facility.names:
                needle = _normalise(name)
                if (
                    needle
                    and _contains(haystack, needle)
                    and (best is None or len(needle) > best[0])
                ):
                    best = (len(needle), facility)
        return None if best is None else best[1]

    def facilities_within(
        self,
        point: Point,
        radius_km: float,
        kinds: Collection[TransportFacilityKind] | None = None,
    ) -> tuple[Facility, ...]:
        """Facilities within ``radius_km`` of ``point``, nearest first."""
        near = [
            (distance_km(f.point, point), f)
            for f in self._of_kinds(kinds)
            if distance_km(f.point, point) <= radius_km
        ]
        return tuple(f for _, f in sorted(near, key=lambda pair: pair[0]))

    def _of_kinds(self, kinds: Collection[TransportFacilityKind] | None) -> tuple[Facility, ...]:
        if kinds is None:
            return self.facilities
        wanted = {TransportFacilityKind(kind).value for kind in kinds}
        return tuple(f for f in self.facilities if f.kind in wanted)


def load_jurisdiction(root: Path | None = None, topology: Topology | None = None) -> Jurisdiction:
    """Load ``jurisdiction.toml`` from ``root`` (default: the topology folder) and check it.

    Every unit and agency it names must exist in ``topology`` (default: the topology loaded
    from the same folder); all 13 districts must be present, each once.
    """
    root = default_topology_dir() if root is None else root
    file = root / JURISDICTION_FILE
    data = read_toml(file, JurisdictionFileError)
    only_tables(file, data, ("city", "district", "facility"), JurisdictionFileError)
    city = validate_table(file, "city", City, data.get("city"), JurisdictionFileError)
    districts = tuple(
        validate_table(
            file, f"district[{raw.get('code', i)}]", District, raw, JurisdictionFileError
        )
        for i, raw in enumerate(_tables(file, "district", data))
    )
    facilities = tuple(
        validate_table(file, f"facility[{raw.get('id', i)}]", Facility, raw, JurisdictionFileError)
        for i, raw in enumerate(_tables(file, "facility", data))
    )
    topology = load_topology(root) if topology is None else topology
    _check(file, city, districts, facilities, topology)
    return Jurisdiction(city=city, districts=districts, facilities=facilities)


def _tables(file: Path, key: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    tables = data.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise JurisdictionFileError(file, key, f"expected [[{key}]] tables")
    return tables


def _check(
    file: Path,
    city: City,
    districts: tuple[District, ...],
    facilities: tuple[Facility, ...],
    topology: Topology,
) -> None:
    agencies = {agency.id: {unit.id for unit in agency.units} for agency in topology.agencies}

    def unit_exists(where: str, unit: str) -> None:
        agency = unit.split(".", 1)[0]
        if unit not in agencies.get(agency, set()):
            raise JurisdictionFileError(
                file, where, f"unknown unit {unit!r}; declare it in agencies.toml or fix the id"
            )

    unit_exists("city.unit", city.unit)
    seen: set[str] = set()
    for district in districts:
        where = f"district[{district.code}]"
        if district.code in seen:
            raise JurisdictionFileError(file, f"{where}.code", "district listed twice")
        seen.add(district.code)
        unit_exists(f"{where}.unit", district.unit)
    missing = sorted(set(XIAN_DISTRICTS) - seen)
    if missing:
        raise JurisdictionFileError(file, "district", f"districts missing: {', '.join(missing)}")
    ids: set[str] = set()
    codes: dict[str, str] = {}
    for facility in facilities:
        where = f"facility[{facility.id}]"
        if facility.id in ids:
            raise JurisdictionFileError(file, f"{where}.id", "facility id used twice")
        ids.add(facility.id)
        if facility.in_xian and facility.region not in XIAN_DISTRICTS:
            raise JurisdictionFileError(
                file, f"{where}.region", f"{facility.region} is not a district of Xi'an"
            )
        if facility.agency is not None and facility.agency not in agencies:
            raise JurisdictionFileError(
                file, f"{where}.agency", f"unknown agency {facility.agency!r} in agencies.toml"
            )
        if facility.unit is not None:
            unit_exists(f"{where}.unit", facility.unit)
        for code in facility.codes.values():
            other = codes.setdefault(code.upper(), facility.id)
            if other != facility.id:
                raise JurisdictionFileError(file, f"{where}.codes", f"code {code} is {other}'s")
