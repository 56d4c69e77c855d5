"""OASIS CAP 1.2 documents for missing-child alerts: build, parse and check them.

:func:`build_cap` renders a :class:`~exchange.rules.public_alert.PublicAlert` at one radius as a
CAP 1.2 ``alert`` (namespace :data:`CAP_NS`), modelled on the AMBER alert example of the CAP 1.2
specification: category Rescue, urgency Immediate, severity Severe, certainty Likely, SAME event
code CAE (Child Abduction Emergency), a circle around the rounded last-seen place. An alert's
messages share one identifier scheme (:func:`message_identifier`); each Update and the final
Cancel lists every earlier message of the alert in ``references``. A Cancel carries no
description of the child: only that the child was found or the report withdrawn.

:func:`parse_cap` reads the parts consumers and tests need; :func:`validate_cap` checks the
structure of the CAP 1.2 XML schema (elements, order, occurrences, enumerations, dateTime
pattern) plus the rules the specification states in prose (references for Update/Cancel/Ack/
Error, identifier characters, circle and polygon syntax, "-00:00" for UTC, restriction and
addresses by scope). It is written from the official ``CAP-v1.2.xsd`` with the standard library
only; the XSD itself needs an XSD-capable parser (lxml), which the project does not depend on.
Parsing refuses any DOCTYPE, so entity tricks cannot reach the XML parser.
"""

# ruff: noqa: RUF001  -- the Chinese texts use full-width punctuation by design.

from __future__ import annotations

import mimetypes
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, NamedTuple

from exchange.errors import ExchangeError
from exchange.models.common import Gender
from exchange.rules.geo import Point
from exchange.rules.public_alert import PublicAlert

__all__ = [
    "CAP_NS",
    "CapBuildError",
    "CapError",
    "CapParseError",
    "CapReference",
    "CapSummary",
    "build_cap",
    "cap_datetime",
    "message_identifier",
    "parse_cap",
    "validate_cap",
]

CAP_NS: Final = "urn:oasis:names:tc:emergency:cap:1.2"
DEFAULT_SENDER_NAME: Final = "西安市公安局 Xi'an Municipal Public Security Bureau"
_Q: Final = f"{{{CAP_NS}}}"
_FORBIDDEN_IN_ID: Final = re.compile(r"[\s,<&]")
_LANGUAGE: Final = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
_DATETIME: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[-+]\d{2}:\d{2}$")
_NUMBER: Final = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_DECIMAL: Final = re.compile(_NUMBER)
_INTEGER: Final = re.compile(r"[-+]?\d+")
_CIRCLE: Final = re.compile(rf"\s*({_NUMBER}),({_NUMBER})\s+({_NUMBER})\s*")
_PAIR: Final = re.compile(rf"({_NUMBER}),({_NUMBER})")
_XMLDSIG_NS: Final = "http://www.w3.org/2000/09/xmldsig#"


class CapError(ExchangeError, ValueError):
    """Root of the CAP errors."""


class CapBuildError(CapError):
    """An argument of :func:`build_cap` cannot make a valid CAP 1.2 message."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"CAP {field}: {problem}")


class CapParseError(CapError):
    """Not a CAP 1.2 alert that :func:`parse_cap` can read; :func:`validate_cap` says why."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"not a readable CAP 1.2 alert: {problem}")


class CapReference(NamedTuple):
    """An earlier message, as CAP's ``references`` names it: ``sender,identifier,sent``."""

    sender: str
    identifier: str
    sent: datetime

    def text(self) -> str:
        """The ``sender,identifier,sent`` triple."""
        return f"{self.sender},{self.identifier},{cap_datetime(self.sent)}"


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


def message_identifier(reference: str, sequence: int) -> str:
    """Identifier of message ``sequence`` (0 = the Alert) of the alert ``reference``."""
    return f"{reference}.{sequence}"


def cap_datetime(when: datetime) -> str:
    """CAP's dateTime: seconds, no fraction, explicit offset, UTC written as ``-00:00``."""
    offset = when.utcoffset()
    if offset is None:
        raise CapBuildError("dateTime", f"{when.isoformat()} is naive; give a UTC offset")
    if offset % timedelta(minutes=1):
        raise CapBuildError("dateTime", f"offset {offset} is not whole minutes")
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes > 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{when:%Y-%m-%dT%H:%M:%S}{sign}{hours:02d}:{mins:02d}"


@dataclass(frozen=True, slots=True)
class _Texts:
    """The words of one language; ``{...}`` fields are filled by :func:`build_cap`."""

    event: str
    genders: dict[Gender, str]
    unknown_name: str
    age: str
    age_range: str
    height: str
    clothing: str
    marks: str
    last_seen: str
    sep: str
    stop: str
    headline: str
    instruction: str
    area: str
    photo: str
    cancel_headline: str
    cancel: dict[str | None, str]
    status_prefix: dict[str, str]


_ZH = _Texts(
    event="儿童失踪",
    genders={Gender.FEMALE: "女", Gender.MALE: "男", Gender.UNKNOWN: "性别不详"},
    unknown_name="姓名不详",
    age="{n}岁",
    age_range="{lo}-{hi}岁",
    height="身高约{n}厘米",
    clothing="衣着：{text}",
    marks="体貌特征：{text}",
    last_seen="{when} 最后出现在：{place}（坐标约 {lat}, {lon}）",
    sep="，",
    stop="。",
    headline="儿童失踪紧急寻人：{who}",
    instruction="如发现该儿童或有相关线索，请立即拨打 {phone} 报警，说明看到的时间和地点。",
    area="{place} 周边 {radius} 公里",
    photo="儿童照片",
    cancel_headline="寻人提醒已撤销（{reference}）",
    cancel={
        "found": "该儿童已找到，本寻人提醒撤销。感谢关注。",
        "withdrawn": "寻人报告已撤回，本寻人提醒撤销。",
        None: "本寻人提醒已撤销：儿童已找到或报告已撤回。",
    },
    status_prefix={"Exercise": "【演练】", "Test": "【测试】"},
)

_EN = _Texts(
    event="Missing child",
    genders={Gender.FEMALE: "girl", Gender.MALE: "boy", Gender.UNKNOWN: "child"},
    unknown_name="name unknown",
    age="{n} years old",
    age_range="{lo}-{hi} years old",
    height="about {n} cm tall",
    clothing="Wearing: {text}",
    marks="Distinguishing marks: {text}",
    last_seen="Last seen {when} at {place} (around {lat}, {lon})",
    sep=", ",
    stop=". ",
    headline="Missing child: {who}",
    instruction="If you see this child or know anything, call {phone} at once and say where "
    "and when you saw the child.",
    area="Within {radius} km of {place}",
    photo="Photo of the child",
    cancel_headline="Missing child alert cancelled ({reference})",
    cancel={
        "found": "The child has been found; this alert is cancelled. Thank you for your help.",
        "withdrawn": "The report has been withdrawn; this alert is cancelled.",
        None: "This alert is cancelled: the child has been found or the report withdrawn.",
    },
    status_prefix={"Exercise": "EXERCISE: ", "Test": "TEST: "},
)


def _texts(language: str) -> _Texts:
    return _ZH if language.lower().startswith("zh") else _EN


def _who(alert: PublicAlert, t: _Texts) -> list[str]:
    parts = [alert.name or t.unknown_name, t.genders[alert.gender]]
    if alert.age_years is not None:
        parts.append(t.age.format(n=alert.age_years))
    elif alert.age_range is not None:
        parts.append(t.age_range.format(lo=alert.age_range[0], hi=alert.age_range[1]))
    return parts


def _local_time(when: datetime) -> str:
    offset = cap_datetime(when)[-6:]
    return f"{when:%Y-%m-%d %H:%M} (UTC{offset})"


def _description(alert: PublicAlert, t: _Texts) -> str:
    who = _who(alert, t)
    if alert.height_cm is not None:
        who.append(t.height.format(n=alert.height_cm))
    sentences = [t.sep.join(who)]
    if alert.clothing:
        sentences.append(t.clothing.format(text=alert.clothing))
    if alert.distinguishing_marks:
        sentences.append(t.marks.format(text=alert.distinguishing_marks))
    sentences.append(t.last_seen.format(
        when=_local_time(alert.last_seen_at), place=_place(alert),
        lat=f"{alert.last_seen_lat:.3f}", lon=f"{alert.last_seen_lon:.3f}",
    ))  # fmt: skip
    return t.stop.join(sentences).strip() + t.stop.strip()


def _place(alert: PublicAlert) -> str:
    return alert.last_seen_place or f"{alert.last_seen_lat:.3f}, {alert.last_seen_lon:.3f}"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _check_build_args(
    *, identifier: str, sender: str, msg_type: str, references: Sequence[CapReference],
    radius_km: float, language: str, sent: datetime, expires: datetime,
) -> None:  # fmt: skip
    for name, value in (("identifier", identifier), ("sender", sender)):
        if not value or _FORBIDDEN_IN_ID.search(value):
            raise CapBuildError(name, f"{value!r} must be non-empty, without spaces, ',' '<' '&'")
    for ref in references:
        for part in (ref.sender, ref.identifier):
            if not part or _FORBIDDEN_IN_ID.search(part):
                raise CapBuildError("references", f"{part!r} cannot appear in a reference")
    if msg_type in ("Update", "Cancel") and not references:
        raise CapBuildError(
            "references", f"a {msg_type} must list the earlier messages it supersedes"
        )
    if radius_km < 0:
        raise CapBuildError("radius_km", f"radius must not be negative, got {radius_km}")
    if not _LANGUAGE.fullmatch(language):
        raise CapBuildError("language", f"{language!r} is not an RFC 3066 tag such as 'zh-CN'")
    if expires <= sent:
        raise CapBuildError("expires", "expires must come after sent")


def build_cap(
    alert: PublicAlert,
    *,
    identifier: str,
    sender: str,
    sent: datetime,
    msg_type: Literal["Alert", "Update", "Cancel"],
    references: Sequence[CapReference] = (),
    radius_km: int,
    expires: datetime,
    status: Literal["Actual", "Exercise", "Test"] = "Actual",
    language: str = "zh-CN",
    sender_name: str = DEFAULT_SENDER_NAME,
    cancel_reason: Literal["found", "withdrawn"] | None = None,
) -> str:
    """A CAP 1.2 XML document (UTF-8 text with declaration) for ``alert`` at ``radius_km``.

    Texts are Chinese for a ``zh*`` language, English otherwise. ``cancel_reason`` only matters
    for a Cancel; None says "found or withdrawn" without telling which.
    """
    _check_build_args(
        identifier=identifier,
        sender=sender,
        msg_type=msg_type,
        references=references,
        radius_km=radius_km,
        language=language,
        sent=sent,
        expires=expires,
    )
    t = _texts(language)
    cancel = msg_type == "Cancel"
    root = ET.Element("alert", {"xmlns": CAP_NS})
    for tag, text in (
        ("identifier", identifier), ("sender", sender), ("sent", cap_datetime(sent)),
        ("status", status), ("msgType", msg_type), ("scope", "Public"),
    ):  # fmt: skip
        _sub(root, tag, text)
    if cancel:
        _sub(root, "note", t.cancel[cancel_reason])
    if references:
        _sub(root, "references", " ".join(ref.text() for ref in references))
    info = _sub(root, "info")
    prefix = t.status_prefix.get(status, "")
    headline = (
        t.cancel_headline.format(reference=alert.reference)
        if cancel
        else t.headline.format(who=t.sep.join(_who(alert, t)))
    )
    for tag, text in (
        ("language", language), ("category", "Rescue"), ("event", t.event),
        *((("responseType", "AllClear"),) if cancel else ()),
        ("urgency", "Past" if cancel else "Immediate"),
        ("severity", "Minor" if cancel else "Severe"),
        ("certainty", "Observed" if cancel else "Likely"),
    ):  # fmt: skip
        _sub(info, tag, text)
    code = _sub(info, "eventCode")
    _sub(code, "valueName", "SAME")
    _sub(code, "value", "CAE")
    _sub(info, "expires", cap_datetime(expires))
    _sub(info, "senderName", sender_name)
    _sub(info, "headline", prefix + headline)
    _sub(info, "description", t.cancel[cancel_reason] if cancel else _description(alert, t))
    if not cancel:
        _sub(info, "instruction", t.instruction.format(phone=alert.contact_phone))
    _sub(info, "contact", alert.contact_phone)
    if alert.photo_ref is not None and not cancel:
        resource = _sub(info, "resource")
        _sub(resource, "resourceDesc", t.photo)
        mime = mimetypes.guess_type(alert.photo_ref)[0] or "application/octet-stream"
        _sub(resource, "mimeType", mime)
        _sub(resource, "uri", alert.photo_ref)
    area = _sub(info, "area")
    _sub(area, "areaDesc", t.area.format(place=_place(alert), radius=radius_km))
    centre = alert.last_seen_point
    _sub(area, "circle", f"{centre.lat:.3f},{centre.lon:.3f} {radius_km}")
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _parse_xml(xml: str) -> ET.Element:
    if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
        raise CapParseError("a DOCTYPE or ENTITY declaration is not allowed in CAP")
    try:
        # No DTD can reach the parser (refused above), so entity expansion is impossible.
        root = ET.fromstring(xml)  # noqa: S314
    except ET.ParseError as exc:
        raise CapParseError(f"not well-formed XML: {exc}") from exc
    if root.tag != f"{_Q}alert":
        raise CapParseError(f"root element is {root.tag!r}, expected {{{CAP_NS}}}alert")
    return root


def _text(parent: ET.Element, tag: str) -> str | None:
    child = parent.find(f"{_Q}{tag}")
    return None if child is None else (child.text or "").strip()


def _required(parent: ET.Element, tag: str) -> str:
    value = _text(parent, tag)
    if not value:
        raise CapParseError(f"<{tag}> is missing or empty")
    return value


def _datetime(value: str, what: str) -> datetime:
    if not _DATETIME.fullmatch(value):
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
    root = _parse_xml(xml)
    info = root.find(f"{_Q}info")
    radius: float | None = None
    centre: Point | None = None
    expires = headline = None
    if info is not None:
        circle = info.find(f"{_Q}area/{_Q}circle")
        if circle is not None:
            parsed = _parse_circle(circle.text or "")
            if parsed is None:
                raise CapParseError(f"circle {circle.text!r} is not 'lat,lon radius'")
            centre, radius = Point(parsed[0], parsed[1]), parsed[2]
        expires_text = _text(info, "expires")
        expires = _datetime(expires_text, "expires") if expires_text else None
        headline = _text(info, "headline")
    return CapSummary(
        identifier=_required(root, "identifier"),
        sender=_required(root, "sender"),
        sent=_datetime(_required(root, "sent"), "sent"),
        status=_required(root, "status"),
        msg_type=_required(root, "msgType"),
        references=_references(_text(root, "references")),
        radius_km=radius,
        centre=centre,
        expires=expires,
        headline=headline,
    )


def validate_cap(xml: str) -> list[str]:
    """Problems that make ``xml`` an invalid CAP 1.2 alert; an empty list means none were found."""
    try:
        root = _parse_xml(xml)
    except CapParseError as exc:
        return [exc.problem]
    return _check_alert(root)


# --- CAP 1.2 structure, transcribed from the official CAP-v1.2.xsd -------------------------


@dataclass(frozen=True, slots=True)
class _Spec:
    """One element of the XSD: occurrences, content kind, allowed values or children in order."""

    name: str
    min: int = 1
    max: int | None = 1  # None: unbounded
    kind: Literal["string", "datetime", "enum", "decimal", "integer", "language", "parent"] = (
        "string"
    )
    values: frozenset[str] = frozenset()
    children: tuple[_Spec, ...] = ()


def _enum(name: str, values: str, min_: int = 1, max_: int | None = 1) -> _Spec:
    return _Spec(name, min_, max_, "enum", frozenset(values.split()))


def _parent(name: str, *children: _Spec, min_: int = 0) -> _Spec:
    return _Spec(name, min_, None, "parent", children=children)


_NAMED_VALUE: Final = (_Spec("valueName"), _Spec("value"))
_ALERT: Final = _Spec("alert", kind="parent", children=(
    _Spec("identifier"), _Spec("sender"), _Spec("sent", kind="datetime"),
    _enum("status", "Actual Exercise System Test Draft"),
    _enum("msgType", "Alert Update Cancel Ack Error"),
    _Spec("source", 0), _enum("scope", "Public Restricted Private"),
    _Spec("restriction", 0), _Spec("addresses", 0), _Spec("code", 0, None), _Spec("note", 0),
    _Spec("references", 0), _Spec("incidents", 0),
    _parent(
        "info",
        _Spec("language", 0, kind="language"),
        _enum("category", "Geo Met Safety Security Rescue Fire Health Env Transport Infra CBRNE "
              "Other", 1, None),
        _Spec("event"),
        _enum("responseType", "Shelter Evacuate Prepare Execute Avoid Monitor Assess AllClear "
              "None", 0, None),
        _enum("urgency", "Immediate Expected Future Past Unknown"),
        _enum("severity", "Extreme Severe Moderate Minor Unknown"),
        _enum("certainty", "Observed Likely Possible Unlikely Unknown"),
        _Spec("audience", 0), _parent("eventCode", *_NAMED_VALUE),
        _Spec("effective", 0, kind="datetime"), _Spec("onset", 0, kind="datetime"),
        _Spec("expires", 0, kind="datetime"), _Spec("senderName", 0), _Spec("headline", 0),
        _Spec("description", 0), _Spec("instruction", 0), _Spec("web", 0), _Spec("contact", 0),
        _parent("parameter", *_NAMED_VALUE),
        _parent("resource", _Spec("resourceDesc"), _Spec("mimeType"),
                _Spec("size", 0, kind="integer"), _Spec("uri", 0), _Spec("derefUri", 0),
                _Spec("digest", 0)),
        _parent("area", _Spec("areaDesc"), _Spec("polygon", 0, None), _Spec("circle", 0, None),
                _parent("geocode", *_NAMED_VALUE), _Spec("altitude", 0, kind="decimal"),
                _Spec("ceiling", 0, kind="decimal")),
    ),
))  # fmt: skip


def _local(tag: str) -> tuple[str, str]:
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return namespace, local


def _check_text(text: str, spec: _Spec, path: str, problems: list[str]) -> None:
    if spec.kind == "enum" and text not in spec.values:
        problems.append(f"{path}: {text!r} is not one of {', '.join(sorted(spec.values))}")
    elif spec.kind == "datetime":
        problems.extend(f"{path}: {p}" for p in _datetime_problems(text))
    elif spec.kind == "decimal" and not _DECIMAL.fullmatch(text):
        problems.append(f"{path}: {text!r} is not a decimal number")
    elif spec.kind == "integer" and not _INTEGER.fullmatch(text):
        problems.append(f"{path}: {text!r} is not an integer")
    elif spec.kind == "language" and not _LANGUAGE.fullmatch(text):
        problems.append(f"{path}: {text!r} is not a language tag such as 'zh-CN'")


def _datetime_problems(text: str) -> list[str]:
    if not _DATETIME.fullmatch(text):
        return [f"{text!r} is not a CAP dateTime like 2026-11-29T08:30:00+08:00 (seconds, no "
                "fraction, explicit offset, no 'Z')"]  # fmt: skip
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return [f"{text!r} is not a real date and time"]
    if text.endswith("+00:00"):
        return [f"{text!r}: CAP 1.2 writes UTC as '-00:00'"]
    return []


def _check_element(element: ET.Element, spec: _Spec, path: str, problems: list[str]) -> None:
    if spec.kind != "parent":
        if len(element):
            problems.append(f"{path}: must hold text, not elements")
        _check_text(element.text or "", spec, path, problems)
        return
    if (element.text or "").strip():
        problems.append(f"{path}: text is not allowed here, only elements")
    names = [child.name for child in spec.children]
    counts = [0] * len(names)
    position, previous = 0, ""
    for child in element:
        namespace, local = _local(child.tag)
        if spec.name == "alert" and namespace == _XMLDSIG_NS:  # <any> from xmldsig, last
            position, previous = len(names), local
            continue
        if namespace != CAP_NS or local not in names:
            where = f" in namespace {namespace!r}" if namespace != CAP_NS else ""
            problems.append(f"{path}: unexpected element <{local}>{where}")
            continue
        index = names.index(local)
        if index < position:
            problems.append(f"{path}: <{local}> is out of order: it must come before <{previous}>")
        else:
            position, previous = index, local
        counts[index] += 1
        _check_element(child, spec.children[index], f"{path}/{local}", problems)
    for child_spec, count in zip(spec.children, counts, strict=True):
        if count < child_spec.min:
            problems.append(f"{path}: required <{child_spec.name}> is missing")
        if child_spec.max is not None and count > child_spec.max:
            problems.append(f"{path}: <{child_spec.name}> occurs {count} times, at most "
                            f"{child_spec.max} allowed")  # fmt: skip


def _parse_circle(text: str) -> tuple[float, float, float] | None:
    """``(lat, lon, radius_km)`` of a ``"lat,lon radius"`` circle, None if the syntax is wrong."""
    match = _CIRCLE.fullmatch(text)
    if match is None:
        return None
    return float(match[1]), float(match[2]), float(match[3])


def _point_problems(lat: float, lon: float) -> list[str]:
    problems = []
    if not -90 <= lat <= 90:
        problems.append(f"latitude {lat} is outside -90..90")
    if not -180 <= lon <= 180:
        problems.append(f"longitude {lon} is outside -180..180")
    return problems


def _area_problems(area: ET.Element, path: str) -> list[str]:
    problems = []
    for circle in area.findall(f"{_Q}circle"):
        parsed = _parse_circle(circle.text or "")
        if parsed is None:
            problems.append(f"{path}/circle: {circle.text!r} is not 'lat,lon radius'")
            continue
        problems.extend(f"{path}/circle: {p}" for p in _point_problems(parsed[0], parsed[1]))
        if parsed[2] < 0:
            problems.append(f"{path}/circle: radius {parsed[2]} is negative")
    for polygon in area.findall(f"{_Q}polygon"):
        pairs = (polygon.text or "").split()
        matches = [_PAIR.fullmatch(pair) for pair in pairs]
        if len(pairs) < 4 or pairs[0] != pairs[-1] or not all(matches):
            problems.append(f"{path}/polygon: needs 4 or more 'lat,lon' pairs, first = last")
    if area.find(f"{_Q}ceiling") is not None and area.find(f"{_Q}altitude") is None:
        problems.append(f"{path}: <ceiling> needs <altitude>")
    return problems


def _reference_problems(text: str | None, msg_type: str | None) -> list[str]:
    if not text:
        if msg_type in ("Update", "Cancel", "Ack", "Error"):
            return [f"alert/references: a {msg_type} must name the earlier message(s) it refers "
                    "to as 'sender,identifier,sent' triples"]  # fmt: skip
        return []
    problems = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            problems.append(f"alert/references: {triple!r} is not 'sender,identifier,sent'")
        else:
            problems.extend(f"alert/references: {p}" for p in _datetime_problems(parts[2]))
    return problems


def _check_alert(root: ET.Element) -> list[str]:
    problems: list[str] = []
    _check_element(root, _ALERT, "alert", problems)
    for tag in ("identifier", "sender"):
        value = _text(root, tag)
        if value is not None and (not value or _FORBIDDEN_IN_ID.search(value)):
            problems.append(f"alert/{tag}: {value!r} must be non-empty, without spaces, "
                            "commas, '<' or '&'")  # fmt: skip
    problems.extend(_reference_problems(_text(root, "references"), _text(root, "msgType")))
    scope = _text(root, "scope")
    if scope == "Restricted" and not _text(root, "restriction"):
        problems.append("alert/restriction: required when scope is Restricted")
    if scope == "Private" and not _text(root, "addresses"):
        problems.append("alert/addresses: required when scope is Private")
    for area in root.iterfind(f"{_Q}info/{_Q}area"):
        problems.extend(_area_problems(area, "alert/info/area"))
    return problems
