"""The documentation site in a real browser (the system's headless Chromium over the DevTools
protocol): every internal link followed; a broken link, a missing page, an unreached page or a
JavaScript error fails. Screenshots of three pages are kept as test artefacts (outside the
repository: $EXCHANGE_TEST_ARTEFACTS, default <tmp>/exchange-artefacts)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from support.cdp import browser_tab
from support.crawl import crawl, serve

from connectors.cli import site_connectors
from exchange.docsite import SiteData, build_site

SCREENSHOTS = ("index.html", "agencies/police.html", "events/TransportSighting.html")


def _artefacts() -> Path:
    root = Path(os.environ.get("EXCHANGE_TEST_ARTEFACTS")
                or Path(tempfile.gettempdir()) / "exchange-artefacts")
    folder = root / "docsite"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(out, SiteData.load("127.0.0.1:19092", site_connectors()))
    return out


@pytest.fixture(scope="module")
def written(site: Path) -> set[str]:
    """Every page and document the build wrote, relative to the site root."""
    return {p.relative_to(site).as_posix() for p in site.rglob("*")
            if p.suffix in (".html", ".json")}


async def test_every_page_opens_and_every_link_resolves(site: Path, written: set[str]) -> None:
    with serve(site) as base:
        async with browser_tab() as tab:
            visits, problems = await crawl(tab, base)
            assert problems == []
            reached = {url.removeprefix(base) for url in visits}
            assert written - reached == set(), "pages no link leads to"
            folder = _artefacts()
            for page in SCREENSHOTS:
                await tab.visit(base + page)
                shot = folder / (page.replace("/", "_").removesuffix(".html") + ".png")
                await tab.screenshot(shot)
                assert shot.stat().st_size > 10_000, shot


async def test_the_crawl_reports_broken_links_missing_pages_and_script_errors(
    tmp_path: Path,
) -> None:
    (tmp_path / "index.html").write_text(
        '<a href="b.html#there">b</a> <a href="b.html#nowhere">b</a> '
        '<a href="gone.html">gone</a> <a href="https://example.org/">outside</a>'
    )
    (tmp_path / "b.html").write_text(
        '<p id="there">b</p><script>throw new Error("boom in b")</script>'
    )
    with serve(tmp_path) as base:
        async with browser_tab() as tab:
            visits, problems = await crawl(tab, base)
    assert set(visits) == {base + "index.html", base + "b.html", base + "gone.html"}
    assert f"{base}gone.html: missing page (HTTP 404)" in problems
    assert f"{base}index.html: broken link to {base}b.html#nowhere (no such anchor)" in problems
    assert any(p.startswith(f"{base}b.html: JavaScript exception: Error: boom in b")
               for p in problems), problems
    assert not any("#there" in p for p in problems)
