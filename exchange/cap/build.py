"""Build a CAP 1.2 document for one step of a missing child's public alert.

:func:`build_cap` renders a :class:`~exchange.rules.public_alert.PublicAlert` at one radius as a
CAP 1.2 ``alert`` (namespace :data:`~exchange.cap.common.CAP_NS`), modelled on the AMBER alert
example of the CAP 1.2 specification: category Rescue, urgency Immediate, severity Severe,
certainty Likely, SAME event code CAE (Child Abduction Emergency), a circle around the rounded
last-seen place. An alert's messages share one identifier scheme (:func:`message_identifier`);
each Update and the final Cancel lists every earlier message of the alert in ``references``. A
Cancel carries no description of the child: only that the child was found or the report withdrawn.
"""

# ruff: noqa: RUF001  -- the Chinese texts use full-width punctuation by design.

from __future__ import annotations

import mimetypes
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from exchange.cap.common import (
    CAP_NS,
    FORBIDDEN_IN_ID,
    LANGUAGE,
    CapBuildError,
    CapReference,
    cap_datetime,
)
from exchange.local_time import human_time
from exchange.models.common import Gender
from exchange.rules.public_alert import PublicAlert

__all__ = ["DEFAULT_SENDER_NAME", "build_cap"]

DEFAULT_SENDER_NAME: Final = "西安市公安局 Xi'an Municipal Public Security Bureau"


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
        when=human_time(alert.last_seen_at, language="zh" if t is _ZH else "en"),
        place=_place(alert),
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
        if not value or FORBIDDEN_IN_ID.search(value):
            raise CapBuildError(name, f"{value!r} must be non-empty, without spaces, ',' '<' '&'")
    for ref in references:
        for part in (ref.sender, ref.identifier):
            if not part or FORBIDDEN_IN_ID.search(part):
                raise CapBuildError("references", f"{part!r} cannot appear in a reference")
    if msg_type in ("Update", "Cancel") and not references:
        raise CapBuildError(
            "references", f"a {msg_type} must list the earlier messages it supersedes"
        )
    if radius_km < 0:
        raise CapBuildError("radius_km", f"radius must not be negative, got {radius_km}")
    if not LANGUAGE.fullmatch(language):
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
