"""The flags of a deadline's report as compliance alerts (Art. 12), so that the joint-meeting
office and the member unit flagged learn it on the bus, not only from the report's files.

One ``ComplianceAlert`` (REPORT_NOT_CONFIRMED) per unit flagged at the run's own deadline (the
district offices' run does not repeat the member units' flags): to the joint-meeting office and,
for a member unit, to the unit itself (a district office has no inbox on the bus; the office
forwards it). Ids and times derive from the run and the unit, so a run repeated after a crash
sends the same alerts and receivers drop the copies by ``ce_source`` + ``ce_id``.
"""

from __future__ import annotations

from exchange.models.common import AgencyRef
from exchange.models.compliance import ComplianceAlert, ComplianceAlertKind
from exchange.models.reporting import ReportLevel
from exchange.reports.figures import CST, YearReport
from exchange.reports.schedule import ReportRun

__all__ = ["INBOX_PREFIX", "JOINT_MEETING_OFFICE", "flag_alerts"]

INBOX_PREFIX = "exchange.compliance.to."
JOINT_MEETING_OFFICE = AgencyRef(agencyId="joint-meeting-office")
_LEVEL = {ReportLevel.MEMBER_UNIT: "member unit", ReportLevel.DISTRICT_OFFICE: "district office"}


def flag_alerts(run: ReportRun, report: YearReport) -> list[ComplianceAlert]:
    alerts = []
    for flag in report.flags:
        if flag.level is not run.level:
            continue
        to = [JOINT_MEETING_OFFICE]
        if flag.level is ReportLevel.MEMBER_UNIT and flag.key != JOINT_MEETING_OFFICE.agencyId:
            to.append(AgencyRef(agencyId=flag.key))
        due = flag.deadline.astimezone(CST).strftime("%Y-%m-%d")
        alerts.append(ComplianceAlert(
            alertId=f"report-{run.year}-{flag.level.value}-{flag.key}",
            kind=ComplianceAlertKind.REPORT_NOT_CONFIRMED, subject=flag.key,
            addressedTo=tuple(to), rule="report-confirmation",
            reason=f"{_LEVEL[flag.level]} {flag.who}: yearly report {run.year} {flag.problem} "
            f"(deadline {due}; 西安市反拐实施细则 第十二条, Art. 12)",
            raisedAt=run.as_of,
        ))  # fmt: skip
    return alerts
