"""CAP 1.2 documents: building, the Alert -> Update -> Cancel chain, parsing and validation."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pytest

from exchange.cap.document import (
    CAP_NS,
    CapBuildError,
    CapParseError,
    CapReference,
    build_cap,
    cap_datetime,
    message_identifier,
    parse_cap,
    validate_cap,
)
from exchange.examples.core import example_missing_person_report
from exchange.rules.geo import Point
from exchange.rules.public_alert import PublicAlert, plan_steps, public_alert_from

CST = timezone(timedelta(hours=8))
SENT = datetime(2026, 11, 29, 8, 30, tzinfo=CST)
SENDER = "tuanyuan.police.xian.example"
Q = f"{{{CAP_NS}}}"


@pytest.fixture
def alert() -> PublicAlert:
    return public_alert_from(example_missing_person_report())


def _build(alert: PublicAlert, **overrides: Any) -> str:
    args: dict[str, Any] = {
        "identifier": message_identifier(alert.reference, 0), "sender": SENDER, "sent": SENT,
        "msg_type": "Alert", "radius_km": 100, "expires": SENT + timedelta(hours=24),
    }  # fmt: skip
    args.update(overrides)
    return build_cap(alert, **args)


# --- dateTime ------------------------------------------------------------------------------


def test_cap_datetime_format() -> None:
    assert cap_datetime(SENT) == "2026-11-29T08:30:00+08:00"
    assert cap_datetime(SENT.replace(microsecond=999_999)) == "2026-11-29T08:30:00+08:00"
    assert cap_datetime(SENT.astimezone(UTC)) == "2026-11-29T00:30:00-00:00"  # CAP's UTC
    assert cap_datetime(SENT.astimezone(ZoneInfo("Asia/Shanghai"))).endswith("+08:00")
    assert cap_datetime(datetime(2026, 1, 1, tzinfo=timezone(-timedelta(hours=5, minutes=30)))) \
        == "2026-01-01T00:00:00-05:30"  # fmt: skip


def test_cap_datetime_refuses_naive_times() -> None:
    with pytest.raises(CapBuildError, match="naive"):
        cap_datetime(datetime(2026, 11, 29, 8, 30))  # noqa: DTZ001


# --- one Alert -----------------------------------------------------------------------------


def test_alert_document(alert: PublicAlert) -> None:
    xml = _build(alert)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(xml)  # noqa: S314  -- our own output
    assert root.tag == f"{Q}alert"
    assert [child.tag.removeprefix(Q) for child in root] == [
        "identifier", "sender", "sent", "status", "msgType", "scope", "info",
    ]  # fmt: skip
    assert root.findtext(f"{Q}sent") == "2026-11-29T08:30:00+08:00"
    assert root.findtext(f"{Q}scope") == "Public"
    info = root.find(f"{Q}info")
    assert info is not None
    assert {tag: info.findtext(f"{Q}{tag}") for tag in (
        "language", "category", "event", "urgency", "severity", "certainty", "contact",
    )} == {
        "language": "zh-CN", "category": "Rescue", "event": "儿童失踪", "urgency": "Immediate",
        "severity": "Severe", "certainty": "Likely", "contact": "110",
    }  # fmt: skip
    assert info.findtext(f"{Q}eventCode/{Q}valueName") == "SAME"
    assert info.findtext(f"{Q}eventCode/{Q}value") == "CAE"
    assert "110" in (info.findtext(f"{Q}instruction") or "")
    description = info.findtext(f"{Q}description") or ""
    for part in ("王小雨", "9岁", "132", "pink hooded jacket", "scar", "小寨", "16:40"):
        assert part in description
    assert info.findtext(f"{Q}area/{Q}circle") == "34.224,108.947 100"
    assert info.find(f"{Q}resource") is None  # the example has no photo
    assert validate_cap(xml) == []


def test_parse_reads_back_what_was_built(alert: PublicAlert) -> None:
    summary = parse_cap(_build(alert, radius_km=300))
    assert summary.identifier == f"{alert.reference}.0"
    assert (summary.sender, summary.sent, summary.status) == (SENDER, SENT, "Actual")
    assert (summary.msg_type, summary.references) == ("Alert", ())
    assert summary.radius_km == 300
    assert summary.centre == Point(34.224, 108.947)
    assert summary.expires == SENT + timedelta(hours=24)
    assert summary.reference == CapReference(SENDER, f"{alert.reference}.0", SENT)


def test_photo_becomes_a_resource(alert: PublicAlert) -> None:
    with_photo = alert.model_copy(update={"photo_ref": "https://tuanyuan.example/p/123.jpg"})
    root = ET.fromstring(_build(with_photo))  # noqa: S314  -- our own output
    resource = root.find(f"{Q}info/{Q}resource")
    assert resource is not None
    assert [child.tag.removeprefix(Q) for child in resource] == ["resourceDesc", "mimeType", "uri"]
    assert resource.findtext(f"{Q}mimeType") == "image/jpeg"
    assert resource.findtext(f"{Q}uri") == "https://tuanyuan.example/p/123.jpg"
    assert validate_cap(_build(with_photo)) == []


def test_english_and_exercise_texts(alert: PublicAlert) -> None:
    xml = _build(alert, language="en-US", status="Exercise")
    summary = parse_cap(xml)
    assert summary.status == "Exercise"
    assert summary.headline is not None
    assert summary.headline.startswith("EXERCISE: Missing child: 王小雨")
    assert "girl, 9 years old, about 132 cm tall" in xml
    assert "Within 100 km of" in xml
    assert validate_cap(xml) == []


# --- the whole life of an alert ------------------------------------------------------------


def test_alert_updates_cancel_chain(alert: PublicAlert) -> None:
    last_seen = SENT - timedelta(minutes=10)
    steps = plan_steps(last_seen, SENT)
    documents: list[str] = []
    earlier: list[CapReference] = []
    for number, step in enumerate(steps):
        xml = _build(alert, identifier=message_identifier(alert.reference, number), sent=step.at,
                     msg_type=step.msg_type, references=tuple(earlier),
                     radius_km=step.radius_km)  # fmt: skip
        documents.append(xml)
        earlier.append(parse_cap(xml).reference)
    cancel = _build(alert, identifier=message_identifier(alert.reference, len(steps)),
                    sent=steps[-1].at + timedelta(minutes=20), msg_type="Cancel",
                    references=tuple(earlier), radius_km=500)  # fmt: skip
    documents.append(cancel)

    summaries = [parse_cap(xml) for xml in documents]
    assert [s.msg_type for s in summaries] == ["Alert", "Update", "Update", "Update", "Cancel"]
    assert [s.radius_km for s in summaries[:-1]] == [100, 200, 300, 500]
    assert len({s.identifier for s in summaries}) == len(summaries)
    for index, summary in enumerate(summaries):
        assert summary.references == tuple(s.reference for s in summaries[:index])
        assert validate_cap(documents[index]) == []
    root = ET.fromstring(documents[2])  # noqa: S314  -- our own output
    assert root.findtext(f"{Q}references") == " ".join(
        f"{SENDER},{alert.reference}.{n},{cap_datetime(steps[n].at)}" for n in range(2)
    )


@pytest.mark.parametrize(
    ("reason", "text"),
    [("found", "已找到"), ("withdrawn", "已撤回"), (None, "已找到或报告已撤回")],
)
def test_cancel_says_found_or_withdrawn_and_nothing_about_the_child(
    alert: PublicAlert, reason: Literal["found", "withdrawn"] | None, text: str
) -> None:
    with_photo = alert.model_copy(update={"photo_ref": "https://tuanyuan.example/p/123.jpg"})
    earlier = CapReference(SENDER, f"{alert.reference}.0", SENT)
    xml = _build(with_photo, identifier=f"{alert.reference}.1", msg_type="Cancel",
                 sent=SENT + timedelta(hours=2), references=[earlier],
                 cancel_reason=reason)  # fmt: skip
    root = ET.fromstring(xml)  # noqa: S314  -- our own output
    assert text in (root.findtext(f"{Q}note") or "")
    assert text in (root.findtext(f"{Q}info/{Q}description") or "")
    for detail in ("王小雨", "pink", "scar", "132", "123.jpg"):
        assert detail not in xml
    assert root.findtext(f"{Q}info/{Q}responseType") == "AllClear"
    assert validate_cap(xml) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"msg_type": "Update"}, "references"),
        ({"msg_type": "Cancel"}, "references"),
        ({"identifier": "TY 1"}, "identifier"),
        ({"identifier": "TY,1"}, "identifier"),
        ({"sender": ""}, "sender"),
        ({"references": [CapReference("a b", "x", SENT)], "msg_type": "Update"}, "references"),
        ({"expires": SENT}, "expires"),
        ({"radius_km": -1}, "radius_km"),
        ({"language": "zh_CN"}, "language"),
    ],
)
def test_build_refuses_arguments_that_break_cap(
    alert: PublicAlert, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(CapBuildError) as caught:
        _build(alert, **overrides)
    assert caught.value.field == field


# --- validation of broken documents --------------------------------------------------------


def _broken(alert: PublicAlert, old: str, new: str) -> str:
    xml = _build(alert)
    assert old in xml
    return xml.replace(old, new, 1)


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
    problems = validate_cap(_broken(alert, old, new))
    assert any(problem in p for p in problems), problems


def test_validate_finds_a_missing_identifier(alert: PublicAlert) -> None:
    xml = re.sub(r"<identifier>[^<]*</identifier>", "", _build(alert))
    assert validate_cap(xml) == ["alert: required <identifier> is missing"]
    with pytest.raises(CapParseError, match="<identifier> is missing"):
        parse_cap(xml)
    empty = re.sub(r"<identifier>[^<]*</identifier>", "<identifier/>", _build(alert))
    assert validate_cap(empty) == [
        "alert/identifier: '' must be non-empty, without spaces, commas, '<' or '&'"
    ]


def test_validate_finds_elements_out_of_order(alert: PublicAlert) -> None:
    xml = _build(alert)
    swapped = xml.replace("<status>Actual</status>", "@@").replace(
        "<msgType>Alert</msgType>", "<status>Actual</status>").replace(
        "@@", "<msgType>Alert</msgType>")  # fmt: skip
    assert validate_cap(swapped) == [
        "alert: <status> is out of order: it must come before <msgType>"
    ]


def test_validate_checks_references_polygons_and_heights(alert: PublicAlert) -> None:
    earlier = CapReference(SENDER, f"{alert.reference}.0", SENT)
    update = _build(alert, msg_type="Update", references=[earlier])
    assert validate_cap(update) == []
    bad_ref = update.replace(f"{SENDER},", f"{SENDER};")
    assert any("is not 'sender,identifier,sent'" in p for p in validate_cap(bad_ref))
    polygon = "<polygon>34.0,108.0 34.5,108.0 34.5,109.0 34.0,108.0</polygon>"
    ok = _broken(alert, "<circle>", polygon + "<circle>")
    assert validate_cap(ok) == []
    open_ring = _broken(alert, "<circle>", "<polygon>34.0,108.0 34.5,108.0</polygon><circle>")
    assert any("polygon" in p for p in validate_cap(open_ring))
    ceiling = _broken(alert, "</area>", "<ceiling>100</ceiling></area>")
    assert any("<ceiling> needs <altitude>" in p for p in validate_cap(ceiling))


@pytest.mark.parametrize(
    ("xml", "problem"),
    [
        ("<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>", "not well-formed"),
        ("<alert xmlns='urn:oasis:names:tc:emergency:cap:1.1'/>", "root element"),
        ("<alert/>", "root element"),
        ('<!DOCTYPE alert [<!ENTITY x "y">]><alert/>', "DOCTYPE"),
    ],
)
def test_validate_and_parse_refuse_what_is_not_a_cap_12_alert(xml: str, problem: str) -> None:
    assert any(problem in p for p in validate_cap(xml))
    with pytest.raises(CapParseError, match=problem):
        parse_cap(xml)


def test_validate_lists_every_missing_required_element() -> None:
    problems = validate_cap(f"<alert xmlns='{CAP_NS}'><info/></alert>")
    for element in ("identifier", "sender", "sent", "status", "msgType", "scope", "category",
                    "event", "urgency", "severity", "certainty"):  # fmt: skip
        assert any(f"required <{element}> is missing" in p for p in problems), element


def test_parse_refuses_a_bad_circle(alert: PublicAlert) -> None:
    with pytest.raises(CapParseError, match="circle"):
        parse_cap(_broken(alert, "34.224,108.947 100", "near Xiaozhai"))
