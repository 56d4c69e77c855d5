"""CAP 1.2 documents built from a public alert: dateTime, texts, Alert -> Update -> Cancel."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pytest
from support.cap import SENDER, SENT, Q, build

from exchange.cap import (
    CapBuildError,
    CapReference,
    cap_datetime,
    message_identifier,
    parse_cap,
    validate_cap,
)
from exchange.rules.public_alert import PublicAlert, plan_steps


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


def test_alert_document(alert: PublicAlert) -> None:
    xml = build(alert)
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


def test_photo_becomes_a_resource(alert: PublicAlert) -> None:
    with_photo = alert.model_copy(update={"photo_ref": "https://tuanyuan.example/p/123.jpg"})
    root = ET.fromstring(build(with_photo))  # noqa: S314  -- our own output
    resource = root.find(f"{Q}info/{Q}resource")
    assert resource is not None
    assert [child.tag.removeprefix(Q) for child in resource] == ["resourceDesc", "mimeType", "uri"]
    assert resource.findtext(f"{Q}mimeType") == "image/jpeg"
    assert resource.findtext(f"{Q}uri") == "https://tuanyuan.example/p/123.jpg"
    assert validate_cap(build(with_photo)) == []


def test_english_and_exercise_texts(alert: PublicAlert) -> None:
    xml = build(alert, language="en-US", status="Exercise")
    summary = parse_cap(xml)
    assert summary.status == "Exercise"
    assert summary.headline is not None
    assert summary.headline.startswith("EXERCISE: Missing child: 王小雨")
    assert "girl, 9 years old, about 132 cm tall" in xml
    assert "Within 100 km of" in xml
    assert validate_cap(xml) == []


def test_alert_updates_cancel_chain(alert: PublicAlert) -> None:
    last_seen = SENT - timedelta(minutes=10)
    steps = plan_steps(last_seen, SENT)
    documents: list[str] = []
    earlier: list[CapReference] = []
    for number, step in enumerate(steps):
        xml = build(alert, identifier=message_identifier(alert.reference, number), sent=step.at,
                     msg_type=step.msg_type, references=tuple(earlier),
                     radius_km=step.radius_km)  # fmt: skip
        documents.append(xml)
        earlier.append(parse_cap(xml).reference)
    cancel = build(alert, identifier=message_identifier(alert.reference, len(steps)),
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
    xml = build(with_photo, identifier=f"{alert.reference}.1", msg_type="Cancel",
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
        build(alert, **overrides)
    assert caught.value.field == field
