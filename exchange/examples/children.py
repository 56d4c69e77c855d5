"""Examples of the events about children of unknown origin (fictional data), for
``exchange example`` and the tests; :mod:`exchange.examples` lists them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from exchange.models.common import AgencyRef, AgeRange, Gender, Location, PersonDescription
from exchange.models.unknown_origin import (
    UnknownOriginCheck,
    UnknownOriginCheckOutcome,
    UnknownOriginChild,
    UnknownOriginDispatch,
    UnknownOriginSource,
)

__all__ = [
    "example_unknown_origin_check",
    "example_unknown_origin_child",
    "example_unknown_origin_dispatch",
]

CST = timezone(timedelta(hours=8))
_SCHOOL = AgencyRef(agencyId="education", displayName="雁塔区某小学 a primary school (fictional)")
_YANTA = AgencyRef(agencyId="police", unitId="police.yanta")


def example_unknown_origin_child() -> UnknownOriginChild:
    """A primary school finds, at enrolment, a boy with no household registration."""
    return UnknownOriginChild(
        reportId="UOC-2025-0031", source=UnknownOriginSource.SCHOOL_ENROLMENT,
        reportedBy=_SCHOOL, observedAt=datetime(2025, 9, 1, 9, 30, tzinfo=CST),
        location=Location(lat=34.2139, lon=108.9590, regionCode="610113",
                          address="雁塔区 Yanta district (fictional address)"),
        child=PersonDescription(ageRange=AgeRange(min=6, max=7), gender=Gender.MALE),
        givenName="小明 Xiaoming (fictional)", noHouseholdRegistration=True, noBirthRecord=True,
        circumstances="Enrolled by a man who says he is an uncle; no hukou, no birth "
        "certificate, the parents' whereabouts unknown.",
        reportedAt=datetime(2025, 9, 1, 16, 0, tzinfo=CST),
    )  # fmt: skip


def example_unknown_origin_dispatch() -> UnknownOriginDispatch:
    report = example_unknown_origin_child()
    sent = report.reportedAt + timedelta(seconds=1)
    return UnknownOriginDispatch(
        reportId=report.reportId, target=_YANTA, rule="region-code",
        reason="place in region 610113 雁塔区 Yanta → police.yanta (rule region-code)",
        checkDueAt=sent + timedelta(hours=168), deadlineRule="school-enrolment",
        deadlineReason="168 h: found at school enrolment",
        dnaSampleRequested=True, source=report.source, reportedBy=report.reportedBy,
        observedAt=report.observedAt, location=report.location, child=report.child,
        givenName=report.givenName, noHouseholdRegistration=True, noBirthRecord=True,
        circumstances=report.circumstances, dispatchedAt=sent,
    )  # fmt: skip


def example_unknown_origin_check() -> UnknownOriginCheck:
    return UnknownOriginCheck(
        reportId="UOC-2025-0031", unit=_YANTA, outcome=UnknownOriginCheckOutcome.ORIGIN_UNKNOWN,
        dnaSampleId="DNA-S-2025-7781",
        finding="The 'uncle' cannot name the parents; the boy's DNA sample was taken.",
        checkedAt=datetime(2025, 9, 3, 11, 0, tzinfo=CST),
    )  # fmt: skip
