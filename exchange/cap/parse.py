"""Read a CAP 1.2 alert: the parts consumers and tests need, nothing more.

Parsing refuses any DOCTYPE or ENTITY declaration, so entity tricks cannot reach the XML parser;
:mod:`.validate` reads documents through :func:`parse_xml` for the same reason.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from exchange.cap.common import CAP_NS, DATETIME, NUMBER, CapParseError, CapReference, Q
from exchange.rules.geo import Point

__all__ = ["CapSummary", "parse_cap", "parse_circle", "parse_xml", "text_of"]

_CIRCLE: Final = re.compile(rf"\s*({NUMBER}),({NUMBER})\s+({NUMBER})\s*")


@dataclass(frozen=True, slots=True)
class CapSummary:
    """The parts of a CAP alert that consumers and tests need (first info, first circle)."""

    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    references: tuple[CapReference, ...]
    radius_km: float | None
    centre: Point | None
    expires: datetime | None
    headline: str | None

    @property
    def reference(self) -> CapReference:
        """How a later Update or Cancel refers to this message."""
        return CapReference(self.sender, self.identifier, self.sent)


def parse_xml(xml: str) -> ET.Element:
    """The root ``alert`` of ``xml``; :class:`CapParseError` for a DTD, bad XML or wrong root."""
    if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
        raise CapParseError("a DOCTYPE or ENTITY declaration is not allowed in CAP")
    try:
        # No DTD can reach the parser (refused above), so entity expansion is impossible.
        root = ET.fromstring(xml)  # noqa: S314
    except ET.ParseError as exc:
        raise CapParseError(f"not well-formed XML: {exc}") from exc
    if root.tag != f"{Q}alert":
        raise CapParseError(f"root element is {root.tag!r}, expected {{{CAP_NS}}}alert")
    return root


def parse_circle(text: str) -> tuple[float, float, float] | None:
    """``(lat, lon, radius_km)`` of a ``"lat,lon radius"`` circle, None if the syntax is wrong."""
    match = _CIRCLE.fullmatch(text)
    if match is None:
        return None
    return float(match[1]), float(match[2]), float(match[3])


def text_of(parent: ET.Element, tag: str) -> str | None:
    """The stripped text of ``parent``'s first CAP child ``tag``; None if there is none."""
    child = parent.find(f"{Q}{tag}")
    return None if child is None else (child.text or "").strip()


def _required(parent: ET.Element, tag: str) -> str:
    value = text_of(parent, tag)
    if not value:
        raise CapParseError(f"<{tag}> is missing or empty")
    return value


def _datetime(value: str, what: str) -> datetime:
    if not DATETIME.fullmatch(value):
        raise CapParseError(f"<{what}> {value!r} is not a CAP dateTime")
    return datetime.fromisoformat(value)


def _references(text: str | None) -> tuple[CapReference, ...]:
    refs = []
    for triple in (text or "").split():
        parts = triple.split(",")
        if len(parts) != 3:
            raise CapParseError(f"reference {triple!r} is not 'sender,identifier,sent'")
        refs.append(CapReference(parts[0], parts[1], _datetime(parts[2], "references")))
    return tuple(refs)


def parse_cap(xml: str) -> CapSummary:
    """Read identifier, type, references, first circle and expiry; raises :class:`CapParseError`."""
    root = parse_xml(xml)
    info = root.find(f"{Q}info")
    radius: float | None = None
    centre: Point | None = None
    expires = headline = None
    if info is not None:
        circle = info.find(f"{Q}area/{Q}circle")
        if circle is not None:
            parsed = parse_circle(circle.text or "")
            if parsed is None:
                raise CapParseError(f"circle {circle.text!r} is not 'lat,lon radius'")
            centre, radius = Point(parsed[0], parsed[1]), parsed[2]
        expires_text = text_of(info, "expires")
        expires = _datetime(expires_text, "expires") if expires_text else None
        headline = text_of(info, "headline")
    return CapSummary(
        identifier=_required(root, "identifier"),
        sender=_required(root, "sender"),
        sent=_datetime(_required(root, "sent"), "sent"),
        status=_required(root, "status"),
        msg_type=_required(root, "msgType"),
        references=_references(text_of(root, "references")),
        radius_km=radius,
        centre=centre,
        expires=expires,
        headline=headline,
    )
