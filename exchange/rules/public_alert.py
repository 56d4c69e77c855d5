"""Emergency missing-minor alerts (团圆 Tuanyuan): the radius schedule and the public content.

Pure decision logic, no Kafka. A workflow turns an OPEN ``MissingPersonReport`` of
category MINOR into a :class:`PublicAlert` with :func:`public_alert_from`, keeps the
:func:`plan_steps` of the case as timers, and renders each step as a CAP 1.2 message with
:func:`exchange.cap.build_cap` (an Alert, then an Update each time the radius widens,
a Cancel when the child is found or the report withdrawn).

**Radius schedule.** The Ministry of Public Security's Tuanyuan platform widens an alert with the
time since the child was last seen: 100 km within the first hour, 200 km within the second,
300 km within the third, 500 km after that. The intervals are half-open: at exactly 1:00:00 the
radius is already 200 km (the child *has* been missing for one hour, and a wider alert errs on
the child's side). So a step's ``at`` is the first instant of its radius, and
``radius_km(step.at - last_seen) == step.radius_km`` for every step. A negative elapsed time
(clock skew between agencies, see ``exchange.models.base.CLOCK_SKEW``) counts as 0: 100 km.
Durations are measured in UTC, so zones with daylight saving time give exact hours too.

**Time.** Nothing here reads the clock: every function takes the times it needs (see
:mod:`exchange.clock`).

**Public content.** A :class:`PublicAlert` holds exactly what the public needs to recognise the
child and report a lead, nothing else: never an identity document or its number, the birth date
(an age is derived from it when no age is given), the home region, the family's phone, the
circumstances text written by police (it may tell of the family), or the reporting officer and
unit. The police case number is not published either: the alert carries a derived
:func:`public_reference`, so internal numbering stays internal and callers quoting it reach
the alert, not the case file.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from exchange.clock import elapsed as _elapsed
from exchange.errors import ExchangeError
from exchange.models.common import Gender, Location
from exchange.models.identifiers import Latitude, Longitude, PhoneNumber, Uri
from exchange.models.missing_persons import (
    MissingPersonCategory,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.rules.geo import Point, distance_km

__all__ = [
    "DEFAULT_PUBLIC_PHONE",
    "MAX_RADIUS_KM",
    "TUANYUAN_SCHEDULE",
    "AlertNotAllowedError",
    "AlertStep",
    "PublicAlert",
    "covers",
    "next_step_at",
    "plan_steps",
    "public_alert_from",
    "public_reference",
    "radius_km",
]

#: (upper bound of the elapsed time, exclusive; radius in km below it), in ascending order.
TUANYUAN_SCHEDULE: Final[tuple[tuple[timedelta, int], ...]] = (
    (timedelta(hours=1), 100),
    (timedelta(hours=2), 200),
    (timedelta(hours=3), 300),
)
#: Radius once the last bound of :data:`TUANYUAN_SCHEDULE` has passed.
MAX_RADIUS_KM: Final = 500
#: Number the public calls when the report names none: the police emergency number.
DEFAULT_PUBLIC_PHONE: Final = "110"
#: Decimal places kept of the last-seen coordinates: 0.001° is 111 m of latitude, 92 m of
#: longitude at Xi'an (34° N), so the public sees the place to about 100 m.
COORDINATE_DECIMALS: Final = 3

class AlertNotAllowedError(ExchangeError, ValueError):
    """This report may not produce a public alert; ``rule`` says which condition failed."""

    def __init__(self, case_id: str, rule: str, problem: str) -> None:
        self.case_id = case_id
        self.rule = rule
        self.problem = problem
        super().__init__(f"case {case_id!r}: no public alert ({rule}): {problem}")


def _after(start: datetime, duration: timedelta) -> datetime:
    """``start + duration`` in absolute time, expressed in ``start``'s time zone."""
    return (start.astimezone(UTC) + duration).astimezone(start.tzinfo)


def radius_km(elapsed: timedelta) -> int:
    """Alert radius for the time since the child was last seen (bounds belong to the next step)."""
    for bound, radius in TUANYUAN_SCHEDULE:
        if elapsed < bound:
            return radius
    return MAX_RADIUS_KM


def next_step_at(last_seen: datetime, now: datetime) -> datetime | None:
    """First instant after ``now`` at which the radius widens; None once it is at 500 km."""
    elapsed = _elapsed(last_seen, now)
    for bound, _radius in TUANYUAN_SCHEDULE:
        if bound > elapsed:
            return _after(last_seen, bound)
    return None


class AlertStep(BaseModel):
    """One message of an alert's life: the Alert at report time or a later widening Update."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: AwareDatetime
    radius_km: int
    msg_type: Literal["Alert", "Update"]


def plan_steps(last_seen: datetime, reported_at: datetime) -> list[AlertStep]:
    """The Alert at ``reported_at`` with the radius that applies then, then one Update per bound.

    A child reported 2.5 h after last seen gets a 300 km Alert and a single 500 km Update at 3 h;
    one reported after 3 h gets only the 500 km Alert.
    """
    steps = [AlertStep(at=reported_at, radius_km=radius_km(_elapsed(last_seen, reported_at)),
                       msg_type="Alert")]  # fmt: skip
    at = next_step_at(last_seen, reported_at)
    while at is not None:
        steps.append(
            AlertStep(at=at, radius_km=radius_km(_elapsed(last_seen, at)), msg_type="Update")
        )
        at = next_step_at(last_seen, at)
    return steps


def _round_coordinate(value: float) -> float:
    return round(value, COORDINATE_DECIMALS)


PublicReference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,40}$")]


class PublicAlert(BaseModel):
    """What the public is told about a missing child; built by :func:`public_alert_from`.

    Coordinates are rounded to :data:`COORDINATE_DECIMALS` on construction, however the alert is
    made. ``reference`` is safe inside CAP identifiers (no spaces, commas, ``<`` or ``&``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: PublicReference
    name: str | None = None
    age_years: Annotated[int, Field(ge=0, le=150)] | None = None
    age_range: tuple[int, int] | None = None
    gender: Gender = Gender.UNKNOWN
    height_cm: int | None = None
    clothing: str | None = None
    distinguishing_marks: str | None = None
    photo_ref: Uri | None = None
    last_seen_at: AwareDatetime
    last_seen_place: str | None = None
    last_seen_lat: Annotated[Latitude, AfterValidator(_round_coordinate)]
    last_seen_lon: Annotated[Longitude, AfterValidator(_round_coordinate)]
    contact_phone: PhoneNumber = DEFAULT_PUBLIC_PHONE

    @property
    def last_seen_point(self) -> Point:
        """The rounded last-seen position, the centre of the alert circle."""
        return Point(self.last_seen_lat, self.last_seen_lon)


def public_reference(case_id: str) -> str:
    """The alert reference for a police case: stable, and not the case number itself.

    A plain digest, not a secret: it keeps the internal numbering off public channels (the case
    number is not tagged sensitive, so a keyed derivation would protect nothing more).
    """
    digest = hashlib.sha256(case_id.encode("utf-8")).hexdigest()[:12].upper()
    return f"TY-{digest}"


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _place(location: Location) -> str | None:
    facility = location.facility
    parts = [
        facility.name or facility.code if facility is not None else None,
        location.address,
    ]
    text = "; ".join(part for part in parts if part)
    return text or None


def _check_allowed(report: MissingPersonReport) -> None:
    if report.category is not MissingPersonCategory.MINOR:
        raise AlertNotAllowedError(
            report.caseId, "category",
            f"category is {report.category.value}; the Tuanyuan emergency alert is for missing "
            "minors only (category MINOR); search for adults through the agencies instead",
        )  # fmt: skip
    if not report.publicAlert:
        raise AlertNotAllowedError(
            report.caseId, "public_alert",
            "publicAlert is false: the family or police have not authorised a public alert; "
            "publish a report with publicAlert = true first",
        )  # fmt: skip
    if report.status is not MissingPersonStatus.OPEN:
        raise AlertNotAllowedError(
            report.caseId, "status",
            f"status is {report.status.value}; only an OPEN case is alerted "
            "(a found or withdrawn case cancels its alert instead)",
        )  # fmt: skip


def public_alert_from(report: MissingPersonReport, *, reference: str | None = None) -> PublicAlert:
    """The public content of an OPEN, publicly alertable report of a missing minor.

    ``reference`` defaults to :func:`public_reference` of the case id. Raises
    :class:`AlertNotAllowedError` for another category, an unauthorised or a closed report.
    """
    _check_allowed(report)
    person = report.missingPerson
    looks = person.description
    age = looks.ageYears
    if age is None and looks.ageRange is None and person.birthDate is not None:
        age = _age_on(person.birthDate, report.lastSeenAt.date())
    age_range = (looks.ageRange.min, looks.ageRange.max) if looks.ageRange is not None else None
    return PublicAlert(
        reference=reference if reference is not None else public_reference(report.caseId),
        name=person.name,
        age_years=age,
        age_range=age_range if age is None else None,
        gender=looks.gender,
        height_cm=looks.heightCm,
        clothing=looks.clothing,
        distinguishing_marks=looks.distinguishingMarks,
        photo_ref=looks.photoRef,
        last_seen_at=report.lastSeenAt,
        last_seen_place=_place(report.lastSeenLocation),
        last_seen_lat=report.lastSeenLocation.lat,
        last_seen_lon=report.lastSeenLocation.lon,
        contact_phone=report.publicContactPhone or DEFAULT_PUBLIC_PHONE,
    )


def covers(alert: PublicAlert, radius: float, point: Point) -> bool:
    """True when ``point`` (a screen, a station) is within ``radius`` km of the last-seen place."""
    return distance_km(alert.last_seen_point, point) <= radius
