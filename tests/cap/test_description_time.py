"""The CAP alert tells the public Beijing time, whatever offset the report was read in."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

import pytest

from exchange.cap import CAP_NS, build_cap, message_identifier
from exchange.examples.core import example_missing_person_report
from exchange.rules.public_alert import public_alert_from

CST = timezone(timedelta(hours=8))
SENT = datetime(2026, 11, 29, 17, 0, tzinfo=CST)
Q = f"{{{CAP_NS}}}"


@pytest.mark.parametrize(("language", "expected", "zone"), [
    ("zh-CN", "2026-11-29 16:40", "北京时间"),
    ("en-US", "2026-11-29 16:40", "(Beijing time, UTC+08:00)"),
])
@pytest.mark.parametrize("offset", [UTC, CST, timezone(timedelta(hours=-5))])
def test_last_seen_is_written_in_beijing_time_with_the_zone_named(
    language: str, expected: str, zone: str, offset: timezone
) -> None:
    report = example_missing_person_report()
    last_seen = datetime(2026, 11, 29, 16, 40, tzinfo=CST).astimezone(offset)  # as Avro gives UTC
    alert = public_alert_from(report.model_copy(update={"lastSeenAt": last_seen}))
    xml = build_cap(
        alert, identifier=message_identifier(alert.reference, 0), sender="x.example",
        sent=SENT, msg_type="Alert", radius_km=5, expires=SENT + timedelta(hours=4),
        language=language,
    )
    root = ET.fromstring(xml)  # noqa: S314  -- our own output
    description = root.findtext(f"{Q}info/{Q}description") or ""
    assert expected in description
    assert zone in description
    assert "08:40" not in description
    assert "UTC-00:00" not in description
