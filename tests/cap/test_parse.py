"""Reading CAP 1.2 documents back, and refusing what is not a CAP 1.2 alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.cap import SENDER, SENT, broken, build

from exchange.cap import (
    CapParseError,
    CapReference,
    parse_cap,
    validate_cap,
)
from exchange.rules.geo import Point
from exchange.rules.public_alert import PublicAlert


def test_parse_reads_back_what_was_built(alert: PublicAlert) -> None:
    summary = parse_cap(build(alert, radius_km=300))
    assert summary.identifier == f"{alert.reference}.0"
    assert (summary.sender, summary.sent, summary.status) == (SENDER, SENT, "Actual")
    assert (summary.msg_type, summary.references) == ("Alert", ())
    assert summary.radius_km == 300
    assert summary.centre == Point(34.224, 108.947)
    assert summary.expires == SENT + timedelta(hours=24)
    assert summary.reference == CapReference(SENDER, f"{alert.reference}.0", SENT)


def test_parse_refuses_a_bad_circle(alert: PublicAlert) -> None:
    with pytest.raises(CapParseError, match="circle"):
        parse_cap(broken(alert, "34.224,108.947 100", "near Xiaozhai"))


@pytest.mark.parametrize(
    ("xml", "problem"),
    [
        ("<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>", "not well-formed"),
        ("<alert xmlns='urn:oasis:names:tc:emergency:cap:1.1'/>", "root element"),
        ("<alert/>", "root element"),
        ('<!DOCTYPE alert [<!ENTITY x "y">]><alert/>', "DOCTYPE"),
    ],
)
def test_validate_and_parse_refuse_what_is_not_a_cap_12_alert(xml: str, problem: str) -> None:
    assert any(problem in p for p in validate_cap(xml))
    with pytest.raises(CapParseError, match=problem):
        parse_cap(xml)
