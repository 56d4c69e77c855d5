"""Tuanyuan radius schedule, alert steps, scaled clock and the minimised public content."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from exchange.cap import CapReference, build_cap, message_identifier, parse_cap
from exchange.clock import ScaledClock
from exchange.examples.core import example_missing_person_report
from exchange.models.common import AgeRange, Gender
from exchange.models.missing_persons import (
    MissingPersonCategory,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.models.sensitivity import sensitive_paths
from exchange.rules.geo import Point, distance_km
from exchange.rules.public_alert import (
    MAX_RADIUS_KM,
    AlertNotAllowedError,
    AlertStep,
    PublicAlert,
    covers,
    next_step_at,
    plan_steps,
    public_alert_from,
    public_reference,
    radius_km,
)
from exchange.schemas.catalogue import Catalogue

CST = ZoneInfo("Asia/Shanghai")
LAST_SEEN = datetime(2026, 11, 29, 8, 30, tzinfo=CST)
H = timedelta(hours=1)
S = timedelta(seconds=1)


# --- radius schedule ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (-timedelta(minutes=5), 100),  # clock skew: counts as zero
        (timedelta(0), 100),
        (timedelta(minutes=59, seconds=59), 100),
        (H - timedelta(microseconds=1), 100),
        (H, 200),  # exactly 1 h already widens (half-open intervals)
        (H + S, 200),
        (2 * H - S, 200),
        (2 * H, 300),
        (2 * H + S, 300),
        (3 * H - S, 300),
        (3 * H, 500),
        (3 * H + S, 500),
        (timedelta(days=1), 500),
        (timedelta(days=400), 500),
    ],
)
def test_radius_at_each_boundary(elapsed: timedelta, expected: int) -> None:
    assert radius_km(elapsed) == expected


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (timedelta(0), H),
        (H - S, H),
        (H, 2 * H),  # at the boundary the radius has just widened; the next one is at 2 h
        (H + S, 2 * H),
        (2 * H + timedelta(minutes=30), 3 * H),
        (3 * H - S, 3 * H),
        (-timedelta(minutes=5), H),
    ],
)
def test_next_step_at(elapsed: timedelta, expected: timedelta) -> None:
    assert next_step_at(LAST_SEEN, LAST_SEEN + elapsed) == LAST_SEEN + expected


@pytest.mark.parametrize("elapsed", [3 * H, 3 * H + S, timedelta(days=3)])
def test_no_next_step_at_the_largest_radius(elapsed: timedelta) -> None:
    assert next_step_at(LAST_SEEN, LAST_SEEN + elapsed) is None


def test_steps_are_exact_hours_across_a_daylight_saving_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    last_seen = datetime(2026, 3, 29, 1, 30, tzinfo=berlin)  # clocks jump 02:00 -> 03:00
    step = next_step_at(last_seen, last_seen)
    assert step is not None
    assert step.astimezone(UTC) - last_seen.astimezone(UTC) == H
    assert (step.hour, step.minute) == (3, 30)  # wall clock moved two hours
    assert radius_km(step.astimezone(UTC) - last_seen.astimezone(UTC)) == 200


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_step_at(datetime(2026, 11, 29, 8, 30), LAST_SEEN)  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_steps(LAST_SEEN, datetime(2026, 11, 29, 9, 30))  # noqa: DTZ001


# --- steps ---------------------------------------------------------------------------------


def _plan(delay: timedelta) -> list[tuple[timedelta, int, str]]:
    reported = LAST_SEEN + delay
    steps = plan_steps(LAST_SEEN, reported)
    for step in steps:  # each step's time gives its own radius
        assert radius_km(step.at - LAST_SEEN) == step.radius_km
    assert steps[0].at == reported
    return [(step.at - LAST_SEEN, step.radius_km, step.msg_type) for step in steps]


def test_plan_reported_after_10_minutes() -> None:
    ten = timedelta(minutes=10)
    assert _plan(ten) == [
        (ten, 100, "Alert"),
        (H, 200, "Update"),
        (2 * H, 300, "Update"),
        (3 * H, 500, "Update"),
    ]


def test_plan_reported_after_90_minutes() -> None:
    late = timedelta(minutes=90)
    assert _plan(late) == [(late, 200, "Alert"), (2 * H, 300, "Update"), (3 * H, 500, "Update")]


def test_plan_reported_after_two_and_a_half_hours_starts_at_300_km() -> None:
    late = timedelta(minutes=150)
    assert _plan(late) == [(late, 300, "Alert"), (3 * H, 500, "Update")]


def test_plan_reported_exactly_on_a_boundary() -> None:
    assert _plan(H) == [(H, 200, "Alert"), (2 * H, 300, "Update"), (3 * H, 500, "Update")]


def test_plan_reported_after_4_hours_is_one_500_km_alert() -> None:
    assert _plan(4 * H) == [(4 * H, MAX_RADIUS_KM, "Alert")]


def test_alert_step_is_frozen() -> None:
    step = plan_steps(LAST_SEEN, LAST_SEEN)[0]
    assert step == AlertStep(at=LAST_SEEN, radius_km=100, msg_type="Alert")
    with pytest.raises(ValueError, match="frozen"):
        step.radius_km = 500  # type: ignore[misc]


# --- scaled clock --------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_scaled_clock_runs_an_hour_per_real_minute() -> None:
    real = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    reported = LAST_SEEN + timedelta(minutes=10)
    clock = ScaledClock(origin=reported, speed=60, base=real)
    assert clock() == reported
    steps = plan_steps(LAST_SEEN, clock())
    assert clock.real_delay(steps[1].at) == timedelta(seconds=50)  # 50 scenario minutes
    real.now += timedelta(seconds=50)
    assert clock() == LAST_SEEN + H
    assert radius_km(clock() - LAST_SEEN) == 200
    assert clock.real_delay(steps[1].at) == timedelta(0)
    assert clock.real_delay(steps[3].at) == timedelta(minutes=2)


def test_scaled_clock_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(origin=LAST_SEEN, speed=0)
    with pytest.raises(ValueError, match="timezone-aware"):
        ScaledClock(origin=datetime(2026, 1, 1), speed=2)  # noqa: DTZ001


# --- public content ------------------------------------------------------------------------


def _with(report: MissingPersonReport, **changes: Any) -> MissingPersonReport:
    """A copy of ``report`` with changes, validated again like a new event."""
    data = report.model_dump()
    data.update(changes)
    return MissingPersonReport.model_validate(data)


def _with_description(report: MissingPersonReport, **changes: Any) -> MissingPersonReport:
    person = report.missingPerson.model_dump()
    person["description"].update(changes)
    return _with(report, missingPerson=person)


def test_public_alert_from_the_example() -> None:
    report = example_missing_person_report()
    alert = public_alert_from(report)
    assert alert.reference == public_reference(report.caseId)
    assert report.caseId not in alert.reference
    assert alert.name == report.missingPerson.name
    assert (alert.age_years, alert.gender, alert.height_cm) == (9, Gender.FEMALE, 132)
    assert alert.clothing is not None
    assert "pink hooded jacket" in alert.clothing
    assert alert.distinguishing_marks == "small scar above the left eyebrow"
    assert alert.last_seen_at == report.lastSeenAt
    assert alert.last_seen_place is not None
    assert "小寨" in alert.last_seen_place
    assert alert.contact_phone == "110"


def test_the_public_alert_has_no_field_for_private_data() -> None:
    assert set(PublicAlert.model_fields) == {
        "reference", "name", "age_years", "age_range", "gender", "height_cm", "clothing",
        "distinguishing_marks", "photo_ref", "last_seen_at", "last_seen_place",
        "last_seen_lat", "last_seen_lon", "contact_phone",
    }  # fmt: skip


def test_last_seen_place_is_rounded_to_about_100_m() -> None:
    report = _with(
        example_missing_person_report(),
        lastSeenLocation={"lat": 34.223549, "lon": 108.947451, "address": "小寨 Xiaozhai"},
    )
    alert = public_alert_from(report)
    assert (alert.last_seen_lat, alert.last_seen_lon) == (34.224, 108.947)
    exact = Point(34.223549, 108.947451)
    assert 0 < distance_km(exact, alert.last_seen_point) < 0.1
    direct = PublicAlert(reference="x", last_seen_at=LAST_SEEN, last_seen_lat=34.22359,
                         last_seen_lon=108.94741)  # fmt: skip
    assert direct.last_seen_point == Point(34.224, 108.947)


def test_age_comes_from_the_birth_date_when_none_is_given() -> None:
    report = _with_description(example_missing_person_report(), ageYears=None)
    alert = public_alert_from(report)
    assert alert.age_years == 9  # born 2016-03-12, last seen 2025-05-18
    assert report.missingPerson.birthDate == date(2016, 3, 12)


def test_an_age_range_is_kept_when_no_age_is_known() -> None:
    report = _with(example_missing_person_report())
    person = report.missingPerson.model_dump()
    person.update(birthDate=None, documents=())
    person["description"].update(ageYears=None, ageRange={"min": 4, "max": 6})
    alert = public_alert_from(_with(report, missingPerson=person))
    assert (alert.age_years, alert.age_range) == (None, (4, 6))
    assert AgeRange(min=4, max=6).max == 6


def test_a_named_public_phone_and_reference_are_used() -> None:
    report = _with(example_missing_person_report(), publicContactPhone="029-8672 1110")
    alert = public_alert_from(report, reference="TY-2025-0001")
    assert (alert.reference, alert.contact_phone) == ("TY-2025-0001", "029-8672 1110")


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"category": MissingPersonCategory.ADULT}, "category"),
        ({"category": MissingPersonCategory.ENDANGERED}, "category"),
        ({"publicAlert": False}, "public_alert"),
        ({"status": MissingPersonStatus.FOUND}, "status"),
        ({"status": MissingPersonStatus.WITHDRAWN}, "status"),
    ],
)
def test_no_public_alert_unless_an_open_authorised_minor_case(
    changes: dict[str, Any], rule: str
) -> None:
    report = _with(example_missing_person_report(), **changes)
    with pytest.raises(AlertNotAllowedError) as caught:
        public_alert_from(report)
    assert caught.value.rule == rule
    assert caught.value.case_id == report.caseId


def test_covers_measures_from_the_last_seen_place() -> None:
    alert = public_alert_from(example_missing_person_report())
    airport = Point(34.4471, 108.7516)  # about 28 km from Xiaozhai
    beijing = Point(39.9042, 116.4074)
    assert covers(alert, 100, airport)
    assert not covers(alert, 10, airport)
    assert not covers(alert, MAX_RADIUS_KM, beijing)


# --- minimisation, driven by the schema's sensitivity tags --------------------------------


def _values_at(data: Any, path: list[str]) -> list[Any]:
    if not path:
        return [data]
    head, rest = path[0], path[1:]
    many = head.endswith("[]")
    value = data.get(head.removesuffix("[]")) if isinstance(data, dict) else None
    if value is None:
        return []
    items = value if many else [value]
    return [found for item in items for found in _values_at(item, rest)]


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    return [] if value is None or isinstance(value, bool) else [str(value)]


def _forbidden_values(report: MissingPersonReport) -> set[str]:
    """Values of identity-document, family, contact and birth-date fields, plus police texts."""
    paths = sensitive_paths(Catalogue.load().current("exchange.events.MissingPersonReport"))
    forbidden = {
        path for path, tags in paths.items()
        if tags & {"family", "contact"}
        or path.startswith("missingPerson.documents")
        or path == "missingPerson.birthDate"
    }  # fmt: skip
    assert {"familyContact", "missingPerson.documents[].number", "missingPerson.birthDate",
            "missingPerson.homeRegionCode"} <= forbidden  # fmt: skip
    data = report.model_dump(mode="json")
    values = {leaf for path in forbidden for leaf in _leaves(_values_at(data, path.split(".")))}
    values |= {report.caseId, report.circumstances, "grandmother"}
    unit = report.reportingUnit
    values |= {v for v in (unit.unitId, unit.displayName, "雁塔分局") if v}
    return values


def _all_messages(report: MissingPersonReport) -> list[str]:
    alert = public_alert_from(report)
    sender = "tuanyuan.police.xian.example"
    messages: list[str] = []
    refs: list[CapReference] = []
    steps = plan_steps(report.lastSeenAt, report.reportedAt)
    for language in ("zh-CN", "en-US"):
        for number, step in enumerate(steps):
            messages.append(build_cap(
                alert, identifier=message_identifier(alert.reference, number), sender=sender,
                sent=step.at, msg_type=step.msg_type, references=tuple(refs),
                radius_km=step.radius_km, expires=step.at + 24 * H, language=language,
            ))  # fmt: skip
            refs.append(parse_cap(messages[-1]).reference)
        messages.append(build_cap(
            alert, identifier=message_identifier(alert.reference, len(steps)), sender=sender,
            sent=steps[-1].at + H, msg_type="Cancel", references=tuple(refs),
            radius_km=MAX_RADIUS_KM, expires=steps[-1].at + 2 * H, language=language,
            cancel_reason="found",
        ))  # fmt: skip
        refs.clear()
    return messages


def test_no_identity_document_family_or_police_detail_reaches_the_cap_xml() -> None:
    report = example_missing_person_report()
    forbidden = _forbidden_values(report)
    child_id = report.missingPerson.documents[0].number
    assert child_id in forbidden
    assert "+86 138 0000 0000" in forbidden
    assert "2016-03-12" in forbidden
    extra = {child_id[:17], child_id[6:14], "13800000000", "2016年3月12日", "20160312"}
    messages = _all_messages(report)
    assert len(messages) == 10
    for xml in messages:
        for value in forbidden | extra:
            assert value not in xml, f"{value!r} leaked into the CAP XML"
