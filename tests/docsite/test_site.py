"""The documentation site's content against its sources (pure: no browser, no broker)."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest

from connectors.adapters.http_gateway_config import HttpGatewayConfig
from connectors.cli import site_connectors
from exchange.cli.main import main
from exchange.docsite import SiteData, render_site
from exchange.docsite.exceptions import DocsiteError
from exchange.docsite.html import esc, page, table
from exchange.docsite.pages_connectors import toml_value
from exchange.docsite.probes import PROBES, Probe, run_probe
from exchange.docsite.reasons import DEAD_LETTER_REASONS, QUARANTINE_REASONS
from exchange.models.registry import EVENTS
from tests.models.test_limits import PROBES as LIMIT_PROBES
from tests.models.test_limits import check_documented

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return render_site(SiteData.load("127.0.0.1:19092", site_connectors()))


def test_every_agency_event_and_reference_page_is_there(files: dict[str, str]) -> None:
    data = SiteData.load("127.0.0.1:19092", site_connectors())
    for agency in data.topology.agencies:
        assert f"agencies/{agency.id}.html" in files
        assert f"asyncapi/{agency.id}.json" in files
    for spec in EVENTS.values():
        assert f"events/{spec.fullname.rpartition('.')[2]}.html" in files, spec.name
    for name in ("validation", "gateway", "connectors", "dead-letters", "sensitivity"):
        assert f"{name}.html" in files


def test_an_agency_page_says_what_it_sends_and_why(files: dict[str, str]) -> None:
    transport = files["agencies/transport.html"]
    sends = transport.split('id="publishes"')[1].split('id="receives"')[0]
    assert "exchange.sighting" in sends
    assert "(Art. 7, 10)" in sends  # the seed's articles, from the topic's purpose
    assert 'topics.html#exchange.rescue"' not in transport  # not addressed to transport


def test_event_fields_show_docs_tags_and_who_may_open(files: dict[str, str]) -> None:
    rescue = files["events/Rescue.html"]
    row = rescue.split("<code>victims[].situationDetails</code>")[1].split("</tr>")[0]
    assert "health" in row  # its tag
    openers = set(re.findall(r'agencies/([a-z-]+)\.html', row))
    # readers of exchange.rescue holding "health" (the workflows refer by health needs)
    assert openers == {"civil-affairs", "health", "workflows"}
    assert "未成年人" in rescue  # Chinese terms of the schema docs kept


def test_text_from_data_is_escaped() -> None:
    html = table(["a"], [["<script>alert('x')</script> & co"]])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in html
    assert "<title>&lt;b&gt; · " in page("<b>", "")
    assert esc('"') == "&quot;"


def test_validation_page_shows_the_validators_own_errors(files: dict[str, str]) -> None:
    validation = files["validation.html"]
    assert "GB 11643 check character: the 18th character does not match" in validation
    rules = validation[: validation.index('<section id="limits">')]
    assert len(PROBES) == rules.count("<tr>") - 1


def test_a_probe_whose_rule_drifted_fails_the_build() -> None:
    wrong = Probe("gb32100_check_char", "x", "transport-sighting", "nothing broken",
                  lambda data: None)
    with pytest.raises(DocsiteError, match="produced no error"):
        run_probe(wrong)


def _codes_in(pattern: str, *folders: str) -> set[str]:
    found: set[str] = set()
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            found |= set(re.findall(pattern, path.read_text(encoding="utf-8")))
    return found


def test_every_dead_letter_and_quarantine_reason_in_the_code_is_documented() -> None:
    """The reasons are read out of the sources: a new code, or a removed one, fails here."""
    quarantine = _codes_in(r'VerificationError\(\s*"([a-z-]+)"', "exchange")
    dead_letter = (
        _codes_in(r'(?:DecodeError|DeadLetter)\(\s*"([a-z-]+)"', "exchange", "connectors")
        | _codes_in(r'super\(\).__init__\(\s*"([a-z-]+)"', "exchange/codec")
        | _codes_in(r'reason="([a-z-]+)"', "connectors")
        | _codes_in(r'reason = "([a-z-]+)" if', "connectors")
        | _codes_in(r'reason = "[a-z-]+" if [^\n]* else "([a-z-]+)"\n', "connectors")
    )
    assert {r.code for r in QUARANTINE_REASONS} == quarantine
    assert {r.code for r in DEAD_LETTER_REASONS} == dead_letter


def test_the_cli_writes_the_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "site"
    assert main(["docs", "--out", str(out), "--bootstrap", "kafka.example:9093"]) == 0
    assert f"open {out / 'index.html'}" in capsys.readouterr().out
    assert "kafka.example:9093" in (out / "index.html").read_text("utf-8")
    assert (out / "favicon.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"  # an ICO header
    bus = json.loads((out / "asyncapi" / "bus.json").read_text("utf-8"))
    assert bus["servers"]["bootstrap-1"]["host"] == "kafka.example:9093"


def test_connector_defaults_are_shown_as_toml(files: dict[str, str]) -> None:
    assert toml_value(Path(".state/connectors")) == '".state/connectors"'
    assert toml_value(("a", 1, True)) == '["a", 1, true]'
    assert toml_value(None) == "(not set)"
    assert "PosixPath" not in files["connectors.html"]


def _documented_limits(html: str) -> list[dict[str, object]]:
    """The rows of a page's Limits table: name, value, rule (values as the page shows them)."""
    section = html[html.index('<section id="limits">'):]
    section = section[: section.index("</section>")]
    limits: list[dict[str, object]] = []
    for row in re.findall(r"<tr>(.*?)</tr>", section)[1:]:
        cells = [unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", row)]
        value: object = cells[3]
        if cells[3].isdigit():
            value = int(cells[3])
        elif re.fullmatch(r"\d+\.\d+", cells[3]):
            value = float(cells[3])
        limits.append({"name": cells[0], "value": value, "rule": cells[4]})
    return limits


def test_the_limits_on_the_pages_are_the_enforced_ones(files: dict[str, str]) -> None:
    shown = _documented_limits(files["validation.html"])
    assert check_documented(shown) == [limit["name"] for limit in shown]
    assert {limit["name"] for limit in shown} == set(LIMIT_PROBES)
    gateway = _documented_limits(files["gateway.html"])
    assert check_documented(gateway) == [limit["name"] for limit in shown]
    body = next(limit for limit in gateway if limit["name"] == "body-bytes")
    assert body["value"] == HttpGatewayConfig.model_fields["max_body_bytes"].default
