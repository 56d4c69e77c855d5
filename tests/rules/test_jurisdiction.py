"""The jurisdiction data loads, agrees with the topology and REFERENCE.md, and its look-ups work."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exchange.models.common import TransportFacilityKind as Kind
from exchange.models.regions import XIAN_DISTRICTS, is_valid_region_code
from exchange.rules.geo import Point, distance_km
from exchange.rules.jurisdiction import (
    JURISDICTION_FILE,
    Jurisdiction,
    JurisdictionFileError,
    load_jurisdiction,
)
from exchange.topology.exceptions import TopologyFileError
from exchange.topology.loader import default_topology_dir, load_topology

BELL_TOWER = Point(34.2610, 108.9423)
BEIJING = Point(39.9042, 116.4074)
XIANYANG_CITY = Point(34.3296, 108.7093)


@pytest.fixture(scope="module")
def jurisdiction() -> Jurisdiction:
    return load_jurisdiction()


def test_every_district_once_with_an_existing_police_unit(jurisdiction: Jurisdiction) -> None:
    assert {d.code for d in jurisdiction.districts} == set(XIAN_DISTRICTS)
    assert len(jurisdiction.districts) == 13
    police = {u.id: u for u in load_topology().agency("police").units}
    for district in jurisdiction.districts:
        unit = police[district.unit]
        assert unit.region == district.code, district.code
        assert unit.kind in ("sub-bureau", "county-bureau")
    yanta = jurisdiction.district("610113")
    assert yanta is not None
    assert (yanta.name_zh, yanta.unit) == ("雁塔区", "police.yanta")
    assert jurisdiction.district("110105") is None
    assert jurisdiction.city.unit == "police.command-centre"


def test_facility_units_exist_and_regions_are_gbt2260(jurisdiction: Jurisdiction) -> None:
    topology = load_topology()
    for facility in jurisdiction.facilities:
        assert is_valid_region_code(facility.region)
        if facility.agency is not None:
            units = {u.id for u in topology.agency(facility.agency).units}
            assert facility.unit is None or facility.unit in units
    kinds = {f.kind for f in jurisdiction.facilities}
    assert kinds == {"RAILWAY_STATION", "AIRPORT", "METRO_STATION", "BUS_STATION"}
    metro = [f for f in jurisdiction.facilities if f.kind == "METRO_STATION"]
    assert len(metro) >= 12
    assert all(f.agency == "metro-police" and f.lines for f in metro)


def test_places_of_reference_md(jurisdiction: Jurisdiction) -> None:
    expected = {
        "rail.xian": (34.2786, 108.9626),
        "rail.xian-north": (34.3773, 108.9393),
        "air.xianyang": (34.4471, 108.7516),
        "metro.zhonglou": (34.2610, 108.9423),
        "metro.xiaozhai": (34.2235, 108.9474),
    }
    for facility_id, (lat, lon) in expected.items():
        facility = jurisdiction.facility(facility_id)
        assert facility is not None
        assert (facility.lat, facility.lon, facility.approximate) == (lat, lon, False)
    airport = jurisdiction.facility("air.xianyang")
    assert airport is not None
    assert airport.region.startswith("6104")  # Xianyang, not Xi'an
    assert not airport.in_xian
    assert airport.agency == "aviation-police"


def test_facility_coordinates_agree_with_their_region(jurisdiction: Jurisdiction) -> None:
    """The district circles place every Xi'an facility in its own district, the rest outside."""
    for facility in jurisdiction.facilities:
        district = jurisdiction.district_at(facility.point)
        if facility.in_xian:
            assert district is not None, facility.id
            assert district.code == facility.region, facility.id
        else:
            assert district is None, facility.id
            assert not jurisdiction.is_in_xian(facility.point), facility.id


def test_is_in_xian(jurisdiction: Jurisdiction) -> None:
    assert jurisdiction.is_in_xian(BELL_TOWER)
    assert jurisdiction.is_in_xian("610113")
    assert not jurisdiction.is_in_xian(BEIJING)
    assert not jurisdiction.is_in_xian(XIANYANG_CITY)
    assert not jurisdiction.is_in_xian("110105")
    assert not jurisdiction.is_in_xian("610404")


def test_nearest_district(jurisdiction: Jurisdiction) -> None:
    assert jurisdiction.nearest_district(Point(34.2235, 108.9474)).code == "610113"
    assert jurisdiction.nearest_district(Point(34.3773, 108.9393)).code == "610112"
    # Always answers, even far away; district_at says whether it really is in Xi'an.
    assert jurisdiction.nearest_district(BEIJING).code
    assert jurisdiction.district_at(BEIJING) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("汉中 Hanzhong", "rail.hanzhong"),
        ("西安北站 Xi'an North", "rail.xian-north"),
        ("Xian North", "rail.xian-north"),
        ("西安北", "rail.xian-north"),
        ("西安站", "rail.xian"),
        ("Xi\u2019an Railway Station", "rail.xian"),  # typographic apostrophe
        ("宝鸡南 Baoji South", "rail.baoji-south"),
        ("Chengdu East", "rail.chengdu-east"),
        ("城南客运站", "bus.chengnan"),
        ("小寨", "metro.xiaozhai"),
    ],
)
def test_facility_by_name(jurisdiction: Jurisdiction, text: str, expected: str) -> None:
    found = jurisdiction.facility_by_name(text)
    assert found is not None
    assert found.id == expected


def test_facility_by_name_no_false_friends(jurisdiction: Jurisdiction) -> None:
    assert jurisdiction.facility_by_name("咸阳 Xianyang") is None  # "Xi'an" is not in "Xianyang"
    assert jurisdiction.facility_by_name("宝鸡 Baoji") is None
    rail = (Kind.RAILWAY_STATION,)
    assert jurisdiction.facility_by_name("纺织城", rail) is None
    found = jurisdiction.facility_by_name("纺织城", (Kind.METRO_STATION,))
    assert found is not None
    assert found.id == "metro.fangzhicheng"


def test_facility_by_code(jurisdiction: Jurisdiction) -> None:
    codes = {"EAY": "rail.xian-north", "xay": "rail.xian", "XIY": "air.xianyang"}
    for code, expected in codes.items():
        found = jurisdiction.facility_by_code(code)
        assert found is not None
        assert found.id == expected
    assert jurisdiction.facility_by_code("ZLXY", (Kind.RAILWAY_STATION,)) is None
    assert jurisdiction.facility_by_code("G87") is None


def test_facilities_within(jurisdiction: Jurisdiction) -> None:
    near = jurisdiction.facilities_within(Point(34.3773, 108.9393), 1.0)
    assert {f.id for f in near} == {"rail.xian-north", "metro.beikezhan"}
    metro = jurisdiction.facilities_within(BELL_TOWER, 2.0, (Kind.METRO_STATION,))
    assert metro[0].id == "metro.zhonglou"
    distances = [distance_km(f.point, BELL_TOWER) for f in metro]
    assert distances == sorted(distances)
    assert all(d <= 2.0 for d in distances)
    assert jurisdiction.facilities_within(BEIJING, 5.0, (Kind.AIRPORT,)) == ()


# ---------------------------------------------------------------- loader errors


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name in ("agencies.toml", "topics.toml", JURISDICTION_FILE):
        shutil.copy(default_topology_dir() / name, tmp_path / name)
    return tmp_path


def _edit(root: Path, old: str, new: str) -> None:
    file = root / JURISDICTION_FILE
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_loads_from_a_given_root(root: Path) -> None:
    assert len(load_jurisdiction(root).districts) == 13


@pytest.mark.parametrize(
    ("old", "new", "path", "problem"),
    [
        ('unit = "police.yanta"', 'unit = "police.yanta-x"', "district[610113].unit",
         "unknown unit"),
        ('unit = "police.command-centre"', 'unit = "police.hq"', "city.unit", "unknown unit"),
        (
            'unit = "railway-police.xian-north-station"',
            'unit = "railway-police.nowhere"',
            "facility[rail.xian-north].unit",
            "unknown unit",
        ),
        ('agency = "aviation-police"', 'agency = "air-police"', "facility[air.xianyang].agency",
         "unknown agency"),
        ('region = "610404"', 'region = "990404"', "facility[air.xianyang].region",
         "not a province-level code"),
        ('region = "610113"\nlines', 'region = "610199"\nlines', "facility[metro.xiaozhai].region",
         "not a district of Xi'an"),
        ("lat = 34.2235", "lat = 134.2235", "facility[metro.xiaozhai].lat", "latitude"),
        ('code = "610124"', 'code = "610125"', "district[610125]", "not a district"),
        ('name_zh = "周至县"', 'name_zh = "户县"', "district[610124]", "610124 is 周至县"),
        ('codes = { iata = "XIY"', 'codes = { iata = "EAY"', "facility[air.xianyang].codes",
         "rail.xian-north"),
    ],
)  # fmt: skip
def test_loader_errors_name_file_and_entry(
    root: Path, old: str, new: str, path: str, problem: str
) -> None:
    _edit(root, old, new)
    with pytest.raises(JurisdictionFileError) as caught:
        load_jurisdiction(root)
    error = caught.value
    assert error.file == root / JURISDICTION_FILE
    assert error.path.startswith(path)
    assert problem in error.problem
    assert str(root / JURISDICTION_FILE) in str(error)
    assert isinstance(error, TopologyFileError)


def test_loader_missing_district_and_bad_toml(root: Path) -> None:
    file = root / JURISDICTION_FILE
    text = file.read_text(encoding="utf-8")
    start = text.index('[[district]]\ncode = "610124"')
    file.write_text(text[:start] + text[text.index("# ----", start) :], encoding="utf-8")
    with pytest.raises(JurisdictionFileError, match="districts missing: 610124"):
        load_jurisdiction(root)
    file.write_text("[city\n", encoding="utf-8")
    with pytest.raises(JurisdictionFileError, match="not valid TOML"):
        load_jurisdiction(root)
    file.unlink()
    with pytest.raises(JurisdictionFileError, match="file not found"):
        load_jurisdiction(root)


def test_loader_refuses_unknown_tables(root: Path) -> None:
    _edit(root, "[city]", "[town]\nx = 1\n\n[city]")
    with pytest.raises(JurisdictionFileError) as caught:
        load_jurisdiction(root)
    assert caught.value.path == "town"
