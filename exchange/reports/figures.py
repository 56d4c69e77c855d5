"""The year's figures per member unit and per district, derived from the events on the bus
(Art. 12: member units report to the joint-meeting office by 15 December, district offices by
20 December; Art. 14: yearly evaluation).

Pure code over decoded events; :mod:`exchange.reports.collect` reads them. An event belongs to
the period by its CloudEvents time (when it was put on the bus), in China Standard Time:

- cases: distinct missing-person case ids, by reporting agency and by the district last seen in;
- rescues and rescued persons: distinct rescue ids, by rescuing agency and district;
- sightings: by reporting agency and district; acknowledgements and the time from the sighting's
  report to the acknowledgement, by acknowledging agency and by the district of its unit;
- referrals: distinct referrals on the board, by the agency they are addressed to: issued,
  completed (latest state), overdue (ever escalated as overdue);
- revocations: revocations and bans, by issuing agency; reinstatements apart;
- compliance alerts: distinct alerts, by each agency they were addressed to;
- cold cases (the ledger, Art. 9): distinct cases in the ledger, by the agency of their unit,
  with the reviews and the DNA comparisons among their leads dated in the period;
- flags: a member unit without a confirmation by 15 December (a district office: 20 December),
  or confirmed after it; raised only once the deadline has passed.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from exchange.codec import DecodedEvent
from exchange.models.cold_cases import ColdCase, ColdCaseLeadKind
from exchange.models.common import Location
from exchange.models.compliance import ComplianceAlert
from exchange.models.intermediaries import IntermediaryAction, IntermediaryRevocation
from exchange.models.missing_persons import MissingPersonReport
from exchange.models.referrals import ReferralState, ReferralStatus, Rescue
from exchange.models.reporting import ReportConfirmation, ReportLevel
from exchange.models.sightings import DispatchAcknowledgement, TransportSighting

__all__ = ["DEADLINES", "DistrictFigures", "Flag", "UnitFigures", "YearReport", "build_report"]

CST = timezone(timedelta(hours=8))
DEADLINES = {ReportLevel.MEMBER_UNIT: (12, 15), ReportLevel.DISTRICT_OFFICE: (12, 20)}
"""(month, day) by which each level confirms its report, end of day in Xi'an (Art. 12)."""


@dataclass
class UnitFigures:
    agency: str
    cases: int = 0
    rescues: int = 0
    rescued_persons: int = 0
    sightings_reported: int = 0
    acknowledgements: int = 0
    ack_seconds: list[float] = field(default_factory=list)
    referrals_issued: int = 0
    referrals_completed: int = 0
    referrals_overdue: int = 0
    revocations: int = 0
    reinstatements: int = 0
    alerts_received: int = 0
    cold_cases: int = 0
    cold_case_reviews: int = 0
    dna_comparisons: int = 0

    @property
    def median_ack_s(self) -> float | None:
        return statistics.median(self.ack_seconds) if self.ack_seconds else None


@dataclass
class DistrictFigures:
    code: str
    name: str
    cases: int = 0
    rescues: int = 0
    rescued_persons: int = 0
    sightings: int = 0
    acknowledgements: int = 0
    ack_seconds: list[float] = field(default_factory=list)

    @property
    def median_ack_s(self) -> float | None:
        return statistics.median(self.ack_seconds) if self.ack_seconds else None


@dataclass(frozen=True)
class Flag:
    level: ReportLevel
    who: str
    deadline: datetime
    problem: str
    key: str = ""
    """The agency id (member unit) or region code (district office) flagged."""


@dataclass
class YearReport:
    year: int
    start: datetime
    end: datetime
    generated_at: datetime
    units: dict[str, UnitFigures]
    districts: dict[str, DistrictFigures]
    flags: list[Flag]


@dataclass(frozen=True)
class Places:
    """What the report needs of the reference data: the districts and where a place is."""

    districts: dict[str, str]  # code -> name
    district_of_unit: dict[str, str]  # police unit id -> district code
    district_at: Callable[[Location], str | None]


def deadline(year: int, level: ReportLevel) -> datetime:
    month, day = DEADLINES[level]
    return datetime.combine(date(year, month, day), time(23, 59, 59), CST)


def build_report(
    year: int, events: Iterable[DecodedEvent], *, members: Iterable[str], places: Places,
    now: datetime, start: datetime | None = None, end: datetime | None = None,
) -> YearReport:
    """The figures of ``year`` (or of the period ``start`` to ``end`` inside it)."""
    start = start or datetime(year, 1, 1, tzinfo=CST)
    end = end or datetime(year + 1, 1, 1, tzinfo=CST)
    report = YearReport(
        year, start, end, now, {m: UnitFigures(m) for m in members},
        {code: DistrictFigures(code, name) for code, name in places.districts.items()}, [],
    )  # fmt: skip
    inside = [e.event for e in events if start <= e.attributes.time < end]
    _Tally(report, places).add(inside)
    report.flags = flags(year, [e for e in inside if isinstance(e, ReportConfirmation)],
                         report.units, places.districts, now)  # fmt: skip
    return report


class _Tally:
    def __init__(self, report: YearReport, places: Places) -> None:
        self.report = report
        self.places = places

    def unit(self, agency: str) -> UnitFigures:
        return self.report.units.setdefault(agency, UnitFigures(agency))

    def district(self, code: str | None) -> DistrictFigures | None:
        return self.report.districts.get(code) if code else None

    def add(self, events: Sequence[object]) -> None:
        kinds = (MissingPersonReport, Rescue, TransportSighting, DispatchAcknowledgement,
                 ReferralState, ComplianceAlert, IntermediaryRevocation, ColdCase)  # fmt: skip
        by_kind: dict[type, list[Any]] = {kind: [] for kind in kinds}
        for event in events:
            if type(event) in by_kind:
                by_kind[type(event)].append(event)
        cases = {c.caseId: c for c in reversed(by_kind[MissingPersonReport])}
        for case in cases.values():
            self.unit(case.reportingUnit.agencyId).cases += 1
            if (district := self.district(self.places.district_at(case.lastSeenLocation))):
                district.cases += 1
        for rescue in {r.rescueId: r for r in reversed(by_kind[Rescue])}.values():
            self.rescue(rescue)
        sightings = {s.sightingId: s for s in reversed(by_kind[TransportSighting])}
        for sighting in sightings.values():
            self.unit(sighting.reporter.agencyId).sightings_reported += 1
            if (district := self.district(self.places.district_at(sighting.location))):
                district.sightings += 1
        self.acknowledgements(by_kind[DispatchAcknowledgement], sightings)
        referrals: dict[str, list[ReferralState]] = {}
        for state in by_kind[ReferralState]:
            referrals.setdefault(state.referralId, []).append(state)
        self.referrals(referrals)
        for alert in {a.alertId: a for a in by_kind[ComplianceAlert]}.values():
            for agency in {ref.agencyId for ref in alert.addressedTo}:
                self.unit(agency).alerts_received += 1
        for decision in by_kind[IntermediaryRevocation]:
            self.revocation(decision)
        for cold in {c.caseId: c for c in by_kind[ColdCase]}.values():  # the latest per case
            self.cold_case(cold)

    def cold_case(self, cold: ColdCase) -> None:
        unit = self.unit(cold.unit.agencyId)
        unit.cold_cases += 1
        start, end = self.report.start, self.report.end
        for lead in cold.leads:
            if start <= lead.at < end:
                unit.cold_case_reviews += lead.kind is ColdCaseLeadKind.REVIEW
                unit.dna_comparisons += lead.kind is ColdCaseLeadKind.DNA_COMPARISON

    def rescue(self, rescue: Rescue) -> None:
        unit = self.unit(rescue.rescuingUnit.agencyId)
        unit.rescues += 1
        unit.rescued_persons += len(rescue.victims)
        if (district := self.district(self.places.district_at(rescue.place))):
            district.rescues += 1
            district.rescued_persons += len(rescue.victims)

    def revocation(self, decision: IntermediaryRevocation) -> None:
        unit = self.unit(decision.issuingUnit.agencyId)
        if decision.action is IntermediaryAction.REINSTATED:
            unit.reinstatements += 1
        else:
            unit.revocations += 1

    def acknowledgements(
        self, acks: list[DispatchAcknowledgement], sightings: dict[str, TransportSighting]
    ) -> None:
        seen: set[str] = set()
        for ack in acks:
            if ack.dispatchId in seen:
                continue
            seen.add(ack.dispatchId)
            unit = self.unit(ack.unit.agencyId)
            district = self.district(self.places.district_of_unit.get(ack.unit.unitId or ""))
            unit.acknowledgements += 1
            if district is not None:
                district.acknowledgements += 1
            sighting = sightings.get(ack.sightingId)
            if sighting is None:
                continue  # reported in an earlier period: counted, not timed
            took = (ack.acknowledgedAt - sighting.reportedAt).total_seconds()
            unit.ack_seconds.append(took)
            if district is not None:
                district.ack_seconds.append(took)

    def referrals(self, referrals: dict[str, list[ReferralState]]) -> None:
        for states in referrals.values():
            latest = states[-1]
            unit = self.unit(latest.toAgency.agencyId)
            unit.referrals_issued += 1
            unit.referrals_completed += latest.status is ReferralStatus.COMPLETED
            unit.referrals_overdue += any(s.escalated or s.overdue for s in states)


def flags(
    year: int, confirmations: list[ReportConfirmation], units: dict[str, UnitFigures],
    districts: dict[str, str], now: datetime,
) -> list[Flag]:
    """Who has not confirmed (or confirmed late), for each deadline that has passed."""
    found: list[Flag] = []
    mine = [c for c in confirmations if c.year == year]
    for level, who in (
        *((ReportLevel.MEMBER_UNIT, agency) for agency in units),
        *((ReportLevel.DISTRICT_OFFICE, code) for code in districts),
    ):
        due = deadline(year, level)
        if now <= due:
            continue
        times = [
            c.confirmedAt for c in mine if c.level is level
            and (c.agency.agencyId if level is ReportLevel.MEMBER_UNIT else c.regionCode) == who
        ]  # fmt: skip
        name = who if level is ReportLevel.MEMBER_UNIT else f"{who} {districts[who]}"
        if not times:
            found.append(Flag(level, name, due, "not confirmed by the deadline", who))
        elif min(times) > due:
            late = min(times).astimezone(CST).strftime("%Y-%m-%d")
            found.append(Flag(level, name, due, f"confirmed late, on {late}", who))
    return found
