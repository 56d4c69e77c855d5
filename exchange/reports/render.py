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

__all__ = ["DISTRICT_COLUMNS", "HEADINGS", "UNIT_COLUMNS", "bar_chart", "write_report"]

UNIT_COLUMNS = (
    "agency", "cases", "rescues", "rescued_persons", "sightings_reported", "acknowledgements",
    "median_ack_s", "referrals_issued", "referrals_completed", "referrals_overdue",
    "revocations", "reinstatements", "alerts_received", "cold_cases", "cold_case_reviews",
    "dna_comparisons",
)  # fmt: skip
DISTRICT_COLUMNS = (
    "code", "name", "cases", "rescues", "rescued_persons", "sightings", "acknowledgements",
    "median_ack_s",
)  # fmt: skip


HEADINGS = {
    "agency": ("成员单位", "Member unit"), "code": ("代码", "Code"), "name": ("区县", "District"),
    "cases": ("失踪案件", "Missing cases"), "rescues": ("解救行动", "Rescues"),
    "rescued_persons": ("解救人数", "Persons rescued"),
    "sightings_reported": ("上报线索", "Sightings reported"), "sightings": ("线索", "Sightings"),
    "acknowledgements": ("签收", "Acknowledged"),
    "median_ack_s": ("签收用时中位数(秒)", "Median time to acknowledge (s)"),
    "referrals_issued": ("转介", "Referrals"), "referrals_completed": ("转介完成", "Completed"),
    "referrals_overdue": ("转介逾期", "Overdue"), "revocations": ("吊销取缔", "Revocations"),
    "reinstatements": ("恢复", "Reinstated"), "alerts_received": ("督办提醒", "Compliance alerts"),
    "cold_cases": ("积案", "Cold cases"), "cold_case_reviews": ("积案复查", "Cold-case reviews"),
    "dna_comparisons": ("DNA比对", "DNA comparisons"),
    "level": ("层级", "Level"), "who": ("单位", "Who"), "deadline": ("截止", "Deadline"),
    "problem": ("问题", "Problem"),
}  # fmt: skip
"""Each column's heading in words, Chinese with English (the CSV files keep the names)."""


def _heading(column: str) -> str:
    zh, en = HEADINGS[column]
    return f'{html.escape(zh)}<br><span lang="en">{html.escape(en)}</span>'


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
    head = "".join(f"<th>{_heading(h)}</th>" for h in header)
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
        bar_chart("解救人数 Rescued persons by district", [(f"{d.code} {d.name}", d.rescued_persons)
                                                 for d in districts]),
        bar_chart("转介完成 Referrals completed by agency",
                  [(u.agency, u.referrals_completed) for u in units if u.referrals_issued]),
        bar_chart("转介逾期 Referrals overdue by agency",
                  [(u.agency, u.referrals_overdue) for u in units if u.referrals_issued]),
        bar_chart("签收用时中位数 Median time to acknowledge a sighting",
                  [(u.agency, round(u.median_ack_s, 1)) for u in units
                   if u.median_ack_s is not None], unit=" s"),
        bar_chart("积案复查 Cold-case reviews by agency",
                  [(u.agency, u.cold_case_reviews) for u in units if u.cold_cases]),
        bar_chart("DNA比对 DNA comparisons on cold cases by agency",
                  [(u.agency, u.dna_comparisons) for u in units if u.cold_cases]),
    ]  # fmt: skip
    flags = _table(("level", "who", "deadline", "problem"), flag_rows) if flag_rows else (
        "<p>No unit or district office is flagged.</p>")  # fmt: skip
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>西安市反拐联席会议 {report.year} 年度报告 — yearly report</title>
<style>
body{{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;margin:2em;max-width:270mm}}
table{{border-collapse:collapse;margin:1em 0;width:100%;table-layout:fixed;font-size:9pt}}
td,th{{border:1px solid #bbb;padding:2px 3px;text-align:right;overflow-wrap:anywhere}}
th{{background:#eee;font-weight:normal;font-size:8pt;text-align:center}}
svg{{max-width:100%;height:auto}}
@page{{size:A4 landscape;margin:10mm}}
@media print{{body{{margin:0;max-width:none}}h2{{break-before:auto}}
table,svg{{break-inside:avoid}}}}
</style>
</head><body>
<h1>西安市反拐联席会议 {report.year} 年度报告 — yearly report {report.year}</h1>
<p lang="en">Figures derived from the events on the exchange bus, {html.escape(period)};
generated {human_time(report.generated_at)}.
Member units confirm by 15 December, district offices by 20 December (Art. 12).</p>
<h2>未按时确认 <span lang="en">Flags</span></h2>{flags}
<h2>图表 <span lang="en">Charts</span></h2>{"".join(f"<div>{c}</div>" for c in charts)}
<h2>成员单位 <span lang="en">Member units</span></h2>{_table(UNIT_COLUMNS, unit_rows)}
<h2>区县 <span lang="en">Districts</span></h2>{_table(DISTRICT_COLUMNS, district_rows)}
</body></html>
"""
