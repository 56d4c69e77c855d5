"""The yearly report as officials print it, in a real browser (the system's headless Chromium
over the DevTools protocol, with a CJK font): on an A4 landscape page (277 mm of width inside
10 mm margins, 1047 CSS pixels) in print media, no table or chart runs off the page, and the
Chinese headings are drawn with a CJK font. A screenshot is kept as a test artefact (outside
the repository: $EXCHANGE_TEST_ARTEFACTS, default <tmp>/exchange-artefacts)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from support.cdp import browser_tab
from support.crawl import serve

from exchange.reports.figures import YearReport
from exchange.reports.render import write_report
from tests.reports.test_figures import report  # noqa: F401 - the fixture of the figures' tests

A4_LANDSCAPE_PX = 1047  # (297 - 2 x 10) mm at 96 px per inch

OVERFLOW = """(() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('table, svg, h1, p')]
    .filter(e => e.getBoundingClientRect().right > width + 0.5 || e.scrollWidth > e.clientWidth + 1)
    .map(e => e.tagName + ':' + (e.textContent || '').slice(0, 30));
  return {width, page: document.documentElement.scrollWidth, wide,
          lang: document.documentElement.lang,
          cjk: document.fonts.check('12px "WenQuanYi Zen Hei"', '积案复查')};
})()"""


async def test_the_report_fits_an_a4_landscape_page_in_print(
    report: YearReport, tmp_path: Path  # noqa: F811
) -> None:
    write_report(report, tmp_path)
    with serve(tmp_path) as base:
        async with browser_tab() as tab:
            visit = await tab.visit(base + "report.html")
            assert visit.errors == [], visit.errors
            await tab.call("Emulation.setEmulatedMedia", media="print")
            await tab.call("Emulation.setDeviceMetricsOverride", width=A4_LANDSCAPE_PX,
                           height=740, deviceScaleFactor=1, mobile=False)  # fmt: skip
            answer = await tab.call("Runtime.evaluate", expression=OVERFLOW, returnByValue=True)
            found = answer["result"]["value"]
            assert found["wide"] == [], found
            assert found["page"] <= A4_LANDSCAPE_PX, found
            assert found["lang"] == "zh-CN"
            assert found["cjk"], "no CJK font: apt-get install fonts-wqy-zenhei (.ci/run does)"
            folder = Path(os.environ.get("EXCHANGE_TEST_ARTEFACTS")
                          or Path(tempfile.gettempdir()) / "exchange-artefacts") / "reports"
            folder.mkdir(parents=True, exist_ok=True)
            shot = folder / "report-a4-landscape.png"
            await tab.screenshot(shot, width=A4_LANDSCAPE_PX, height=740)
            assert shot.stat().st_size > 10_000
