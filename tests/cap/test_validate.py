"""Validation of CAP 1.2 documents: the official OASIS XSD, then the rules of the prose."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import resources

import pytest
import xmlschema
from support.cap import SENDER, SENT, broken, build

from exchange.cap import (
    CAP_NS,
    CapParseError,
    CapReference,
    parse_cap,
    validate_cap,
)
from exchange.cap.validate import XSD_FILE, cap_schema
from exchange.rules.public_alert import PublicAlert


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("<msgType>Alert</msgType>", "<msgType>Update</msgType>", "a Update must name"),
        ("<msgType>Alert</msgType>", "<msgType>Cancel</msgType>", "a Cancel must name"),
        ("34.224,108.947 100", "34.224 108.947 100", "is not 'lat,lon radius'"),
        ("34.224,108.947 100", "34.224,108.947", "is not 'lat,lon radius'"),
        ("34.224,108.947 100", "94.224,108.947 100", "latitude 94.224 is outside"),
        ("34.224,108.947 100", "34.224,108.947 -5", "radius -5.0 is negative"),
        ("<status>Actual</status>", "<status>Real</status>", "'Real' is not one of"),
        ("<category>Rescue</category>", "<category>Child</category>", "'Child' is not one of"),
        ("<category>Rescue</category>", "", "required <category> is missing"),
        ("2026-11-29T08:30:00+08:00</sent>", "2026-11-29T00:30:00Z</sent>", "not a CAP dateTime"),
        ("08:30:00+08:00</sent>", "08:30:00.5+08:00</sent>", "not a CAP dateTime"),
        ("2026-11-29T08:30:00+08:00</sent>", "2026-11-31T08:30:00+08:00</sent>", "real date"),
        ("08:30:00+08:00</sent>", "00:30:00+00:00</sent>", "writes UTC as '-00:00'"),
        ("<scope>Public</scope>", "<scope>Restricted</scope>", "required when scope"),
        ("<language>zh-CN</language>", "<language>zh_CN</language>", "not a language tag"),
        ("<scope>Public</scope>", "<scope>Public</scope><scope>Public</scope>", "occurs 2 times"),
        ("<sender>", "<priority>1</priority><sender>", "unexpected element <priority>"),
    ],
)
def test_validate_finds_problems(alert: PublicAlert, old: str, new: str, problem: str) -> None:
    problems = validate_cap(broken(alert, old, new))
    assert any(problem in p for p in problems), problems


def test_validate_finds_a_missing_identifier(alert: PublicAlert) -> None:
    xml = re.sub(r"<identifier>[^<]*</identifier>", "", build(alert))
    assert validate_cap(xml) == ["alert: required <identifier> is missing"]
    with pytest.raises(CapParseError, match="<identifier> is missing"):
        parse_cap(xml)
    empty = re.sub(r"<identifier>[^<]*</identifier>", "<identifier/>", build(alert))
    assert validate_cap(empty) == [
        "alert/identifier: '' must be non-empty, without spaces, commas, '<' or '&'"
    ]


def test_validate_finds_elements_out_of_order(alert: PublicAlert) -> None:
    xml = build(alert)
    swapped = xml.replace("<status>Actual</status>", "@@").replace(
        "<msgType>Alert</msgType>", "<status>Actual</status>").replace(
        "@@", "<msgType>Alert</msgType>")  # fmt: skip
    assert validate_cap(swapped) == [
        "alert: <status> is out of order: it must come before <msgType>"
    ]


def test_validate_checks_references_polygons_and_heights(alert: PublicAlert) -> None:
    earlier = CapReference(SENDER, f"{alert.reference}.0", SENT)
    update = build(alert, msg_type="Update", references=[earlier])
    assert validate_cap(update) == []
    bad_ref = update.replace(f"{SENDER},", f"{SENDER};")
    assert any("is not 'sender,identifier,sent'" in p for p in validate_cap(bad_ref))
    polygon = "<polygon>34.0,108.0 34.5,108.0 34.5,109.0 34.0,108.0</polygon>"
    ok = broken(alert, "<circle>", polygon + "<circle>")
    assert validate_cap(ok) == []
    open_ring = broken(alert, "<circle>", "<polygon>34.0,108.0 34.5,108.0</polygon><circle>")
    assert any("polygon" in p for p in validate_cap(open_ring))
    ceiling = broken(alert, "</area>", "<ceiling>100</ceiling></area>")
    assert any("<ceiling> needs <altitude>" in p for p in validate_cap(ceiling))


def test_validate_lists_every_missing_required_element() -> None:
    problems = validate_cap(f"<alert xmlns='{CAP_NS}'><info/></alert>")
    for element in ("identifier", "sender", "sent", "status", "msgType", "scope", "category",
                    "event", "urgency", "severity", "certainty"):  # fmt: skip
        assert any(f"required <{element}> is missing" in p for p in problems), element


# --- the official XSD and the layer over it ------------------------------------------------


def test_the_schema_is_the_official_oasis_cap_12_xsd_from_the_package() -> None:
    schema = cap_schema()
    assert schema.target_namespace == CAP_NS
    assert schema.version == "1.2"
    assert schema.url is not None
    assert schema.url.endswith(f"/exchange/cap/{XSD_FILE}")
    text = (resources.files("exchange.cap") / XSD_FILE).read_text(encoding="utf-8")
    assert text.splitlines()[1] == "<!-- Copyright OASIS Open 2010 All Rights Reserved -->"


def _xsd_valid(xml: str) -> bool:
    """The official XSD alone, run on ``xml`` (parsed here, nothing fetched), finds no error."""
    document = xmlschema.XMLResource(ET.fromstring(xml), allow="none")  # noqa: S314  -- ours
    return cap_schema().is_valid(document)


def test_the_xsd_catches_what_the_old_validator_also_caught(alert: PublicAlert) -> None:
    xml = broken(alert, "<severity>Severe</severity>", "<severity>Bad</severity>")
    assert not _xsd_valid(xml)
    assert validate_cap(xml) == [
        "alert/info/severity: 'Bad' is not one of Extreme, Minor, Moderate, Severe, Unknown"
    ]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        # The hand-written validator never looked at attributes...
        ("<identifier>", '<identifier lang="zh">',
         "alert/identifier: attribute 'lang' is not allowed: CAP 1.2 elements take no attributes"),
        # ...nor at text between child elements (only before the first one).
        ("</identifier>", "</identifier>stray", "alert: text is not allowed here, only elements"),
    ],
)  # fmt: skip
def test_the_xsd_catches_what_the_old_validator_missed(
    alert: PublicAlert, old: str, new: str, problem: str
) -> None:
    xml = broken(alert, old, new)
    assert not _xsd_valid(xml)
    assert validate_cap(xml) == [problem]


def test_the_rules_of_the_prose_are_checked_over_a_schema_valid_document(
    alert: PublicAlert,
) -> None:
    update = broken(alert, "<msgType>Alert</msgType>", "<msgType>Update</msgType>")
    assert _xsd_valid(update)
    assert validate_cap(update) == [
        "alert/references: a Update must name the earlier message(s) it refers to as "
        "'sender,identifier,sent' triples"
    ]


def test_building_and_parsing_do_not_load_the_schema_validator() -> None:
    probe = (
        "import sys; import exchange.cap; loaded = 'xmlschema' in sys.modules; "
        "exchange.cap.validate_cap(\"<alert xmlns='" + CAP_NS + "'/>\"); "
        "print(loaded, 'xmlschema' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == ["False", "True"]
