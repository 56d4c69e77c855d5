"""A year's report as files: ``units.csv``, ``districts.csv``, ``flags.csv`` and ``report.html``
(tables and inline SVG bar charts; no script, no external resource, no new dependency)."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from pathlib import Path

from exchange.local_time import ZONE_EN, human_time
from exchange.reports.figures import CST, DistrictFigures, UnitFigures, YearReport

__all__ = ["DISTRICT_COLUMNS", "UNIT_COLUMNS", "bar_chart", "write_report"]

UNIT_COLUMNS = (
    "agency", "cases", "rescues", "rescued_persons", "sightings_reported", "acknowledgements",
    "median_ack_s", "referrals_issued", "referrals_completed", "referrals_overdue",
    "revocations", "reinstatements", "alerts_received",
)  # fmt: skip
DISTRICT_COLUMNS = (
    "code", "name", "cases", "rescues", "rescued_persons", "sightings", "acknowledgements",
    "median_ack_s",
)  # fmt: skip


def _value(row: UnitFigures | DistrictFigures, column: str) -> str:
    value = getattr(row, column)
    if value is None:
        return ""
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def bar_chart(title: str, bars: Sequence[tuple[str, float]], *, unit: str = "") -> str:
    """A horizontal bar chart as an inline SVG element."""
    width, label_w, row_h = 640, 230, 22
    top = max((value for _, value in bars), default=0) or 1
    height = 30 + row_h * max(len(bars), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="16" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(bars):
        y = 26 + i * row_h
        length = (width - label_w - 70) * value / top
        parts += [
            f'<text x="0" y="{y + 14}" font-size="12">{html.escape(label)}</text>',
            f'<rect x="{label_w}" y="{y + 3}" width="{length:.1f}" height="14" fill="#3b6ea5"/>',
            f'<text x="{label_w + length + 4:.1f}" y="{y + 14}" font-size="12">'
            f"{value:g}{html.escape(unit)}</text>",
        ]
    if not bars:
        parts.append('<text x="0" y="40" font-size="12">(nothing this year)</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(report: YearReport, directory: Path) -> list[Path]:
    """Write the report's files into ``directory``; returns them."""
    directory.mkdir(parents=True, exist_ok=True)
    units = sorted(report.units.values(), key=lambda u: u.agency)
    districts = sorted(report.districts.values(), key=lambda d: d.code)
    unit_rows = [[_value(u, c) for c in UNIT_COLUMNS] for u in units]
    district_rows = [[_value(d, c) for c in DISTRICT_COLUMNS] for d in districts]
    flag_header = ("level", "who", "deadline", "problem")
    flag_rows = [
        [f.level.value, f.who, f.deadline.astimezone(CST).isoformat(), f.problem]
        for f in report.flags
    ]
    files = {
        "units.csv": _csv(UNIT_COLUMNS, unit_rows),
        "districts.csv": _csv(DISTRICT_COLUMNS, district_rows),
        "flags.csv": _csv(flag_header, flag_rows),
        "report.html": _html(
            report, units, districts, unit_rows=unit_rows, district_rows=district_rows,
            flag_rows=flag_rows,
        ),
    }
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _html(
    report: YearReport, units: list[UnitFigures], districts: list[DistrictFigures], *,
    unit_rows: list[list[str]], district_rows: list[list[str]], flag_rows: list[list[str]],
) -> str:
    period = (f"{report.start.astimezone(CST):%Y-%m-%d %H:%M} to "
              f"{report.end.astimezone(CST):%Y-%m-%d %H:%M} ({ZONE_EN})")  # fmt: skip
    charts = [
        bar_chart("Rescued persons by district", [(f"{d.code} {d.name}", d.rescued_persons)
                                                 for d in districts]),
        bar_chart("Referrals completed by agency",
                  [(u.agency, u.referrals_completed) for u in units if u.referrals_issued]),
        bar_chart("Referrals overdue by agency",
                  [(u.agency, u.referrals_overdue) for u in units if u.referrals_issued]),
        bar_chart("Median time to acknowledge a sighting",
                  [(u.agency, round(u.median_ack_s, 1)) for u in units
                   if u.median_ack_s is not None], unit=" s"),
    ]  # fmt: skip
    flags = _table(("level", "who", "deadline", "problem"), flag_rows) if flag_rows else (
        "<p>No unit or district office is flagged.</p>")  # fmt: skip
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Anti-trafficking joint meeting — {report.year} report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #bbb;padding:3px 6px;text-align:right}}th{{background:#eee}}</style>
</head><body>
<h1>西安市反拐联席会议 {report.year} 年度报告 — yearly report {report.year}</h1>
<p>Figures derived from the events on the exchange bus, {html.escape(period)};
generated {human_time(report.generated_at)}.
Member units confirm by 15 December, district offices by 20 December (Art. 12).</p>
<h2>Flags</h2>{flags}
<h2>Charts</h2>{"".join(f"<div>{c}</div>" for c in charts)}
<h2>Member units</h2>{_table(UNIT_COLUMNS, unit_rows)}
<h2>Districts</h2>{_table(DISTRICT_COLUMNS, district_rows)}
</body></html>
"""
