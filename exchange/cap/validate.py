"""Validate a CAP 1.2 alert: the official OASIS XSD first, then the rules its prose adds.

The structure (elements, order, occurrences, enumerations, dateTime pattern, data types,
attributes) is checked by :mod:`xmlschema` against ``CAP-v1.2.xsd``, the schema published by
OASIS, kept verbatim beside this module. Each schema error becomes one line naming the element
path and the rule broken; a content-model error is explained from the schema's own particles
(missing, repeated, out of order or unexpected children), so that every problem of an element is
listed, not only the first one the schema validator meets.

On top of the schema, the rules the CAP 1.2 specification states in prose and the XSD cannot
express: references for Update/Cancel/Ack/Error and their ``sender,identifier,sent`` syntax,
identifier and sender characters, UTC written as ``-00:00``, restriction and addresses by scope,
circle and polygon syntax and ranges, ``<ceiling>`` only with ``<altitude>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Final

from exchange.cap.common import CAP_NS, DATETIME, FORBIDDEN_IN_ID, NUMBER, CapParseError, Q
from exchange.cap.parse import parse_circle, parse_xml, text_of

if TYPE_CHECKING:  # xmlschema is imported when the first document is validated, not before
    import xmlschema
    from xmlschema.validators import XsdGroup

__all__ = ["XSD_FILE", "cap_schema", "validate_cap"]

XSD_FILE: Final = "CAP-v1.2.xsd"
_PAIR: Final = re.compile(rf"({NUMBER}),({NUMBER})")
_NAMESPACE: Final = re.compile(r"\{[^}]*\}")
_REASONS: Final = (  # xmlschema's wording -> ours
    ("a simple content element can't have child elements", "must hold text, not elements"),
    (
        "character data between child elements not allowed",
        "text is not allowed here, only elements",
    ),
)
_ATTRIBUTE: Final = re.compile(r"'(.+)' attribute not allowed for element")
_TYPE_RULES: Final = (  # checked in this order: an xs:integer is also an xs:decimal
    ("language", "is not a language tag such as 'zh-CN'"),
    ("integer", "is not an integer"),
    ("decimal", "is not a decimal number"),
)
_DATETIME_FIELDS: Final = ("sent", "info/effective", "info/onset", "info/expires")


@cache
def cap_schema() -> xmlschema.XMLSchema10:
    """The official OASIS CAP 1.2 schema, loaded once from the package data; nothing remote."""
    import xmlschema  # noqa: PLC0415  -- builders and parsers do not pay for the validator

    with resources.as_file(resources.files("exchange.cap") / XSD_FILE) as path:
        return xmlschema.XMLSchema10(str(path), allow="sandbox", defuse="always")


def validate_cap(xml: str) -> list[str]:
    """Problems that make ``xml`` an invalid CAP 1.2 alert; an empty list means none were found."""
    try:
        root = parse_xml(xml)
    except CapParseError as exc:
        return [exc.problem]
    problems = _schema_problems(root) + _rule_problems(root)
    return list(dict.fromkeys(problems))  # one line per problem, in the order found


# --- the XSD ---------------------------------------------------------------------------------


def _path(error: xmlschema.XMLSchemaValidationError) -> str:
    return _NAMESPACE.sub("", error.path or "").strip("/") or "alert"


def _schema_problems(root: ET.Element) -> list[str]:
    import xmlschema  # noqa: PLC0415  -- see cap_schema
    from xmlschema.validators import XsdGroup  # noqa: PLC0415

    problems: list[str] = []
    explained: set[int] = set()  # elements whose children were already explained
    document = xmlschema.XMLResource(root, allow="none")  # already parsed: nothing to fetch
    for error in cap_schema().iter_errors(document):
        path = _path(error)
        content = error.validator if isinstance(error.validator, XsdGroup) else None
        if isinstance(error, xmlschema.XMLSchemaChildrenValidationError) and content is not None:
            if error.elem is not None and id(error.elem) not in explained:
                explained.add(id(error.elem))
                problems.extend(_content_problems(error.elem, content, path))
            continue
        problems.append(f"{path}: {_value_problem(error)}")
    return problems


def _local(tag: str) -> tuple[str, str]:
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return namespace, local


def _content_problems(element: ET.Element, group: XsdGroup, path: str) -> list[str]:
    """Every way the children of ``element`` break the schema's sequence ``group``."""
    from xmlschema.validators import XsdAnyElement, XsdElement  # noqa: PLC0415  -- see cap_schema

    particles = list(group.iter_elements())
    counts = [0] * len(particles)
    problems: list[str] = []
    position, previous = 0, ""
    for child in element:
        namespace, local = _local(child.tag)
        index = next((i for i, p in enumerate(particles) if p.is_matching(child.tag)), None)
        if index is None:
            where = f" in namespace {namespace!r}" if namespace != CAP_NS else ""
            problems.append(f"{path}: unexpected element <{local}>{where}")
            continue
        if index < position:
            problems.append(f"{path}: <{local}> is out of order: it must come before <{previous}>")
        else:
            position, previous = index, local
        counts[index] += 1
    for particle, count in zip(particles, counts, strict=True):
        if isinstance(particle, XsdAnyElement) or not isinstance(particle, XsdElement):
            continue
        name = particle.local_name
        if count < particle.min_occurs:
            problems.append(f"{path}: required <{name}> is missing")
        if particle.max_occurs is not None and count > particle.max_occurs:
            problems.append(f"{path}: <{name}> occurs {count} times, at most "
                            f"{particle.max_occurs} allowed")  # fmt: skip
    return problems or [f"{path}: {group.name or 'content'} does not match the CAP 1.2 schema"]


def _type_names(validator: object) -> set[str]:
    """Local names of the XSD type behind a failed check and of its primitive type."""
    kind = getattr(validator, "parent", None) if "Facets" in type(validator).__name__ else validator
    names = set()
    for candidate in (kind, getattr(kind, "primitive_type", None)):
        name = getattr(candidate, "local_name", None)
        if name:
            names.add(name)
    return names


def _value_problem(error: xmlschema.XMLSchemaValidationError) -> str:
    reason = error.reason or "does not match the CAP 1.2 schema"
    for start, problem in _REASONS:
        if reason.startswith(start):
            return problem
    attribute = _ATTRIBUTE.fullmatch(reason)
    if attribute is not None:
        return f"attribute {attribute[1]!r} is not allowed: CAP 1.2 elements take no attributes"
    if not isinstance(error.obj, str):
        return reason
    text, names = error.obj, _type_names(error.validator)
    enumeration = getattr(error.validator, "enumeration", None)
    if enumeration:
        return f"{text!r} is not one of {', '.join(sorted(map(str, enumeration)))}"
    if "dateTime" in names:
        return "; ".join(_datetime_problems(text)) or f"{text!r}: {reason}"
    rule = next((problem for name, problem in _TYPE_RULES if name in names), None)
    return f"{text!r} {rule}" if rule else f"{text!r}: {reason}"


def _datetime_problems(text: str) -> list[str]:
    if not DATETIME.fullmatch(text):
        return [f"{text!r} is not a CAP dateTime like 2026-11-29T08:30:00+08:00 (seconds, no "
                "fraction, explicit offset, no 'Z')"]  # fmt: skip
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return [f"{text!r} is not a real date and time"]
    return []


# --- what the specification says in prose ------------------------------------------------------


def _utc_problems(text: str, path: str) -> list[str]:
    if DATETIME.fullmatch(text) and text.endswith("+00:00"):
        return [f"{path}: {text!r}: CAP 1.2 writes UTC as '-00:00'"]
    return []


def _point_problems(lat: float, lon: float) -> list[str]:
    problems = []
    if not -90 <= lat <= 90:
        problems.append(f"latitude {lat} is outside -90..90")
    if not -180 <= lon <= 180:
        problems.append(f"longitude {lon} is outside -180..180")
    return problems


def _area_problems(area: ET.Element, path: str) -> list[str]:
    problems = []
    for circle in area.findall(f"{Q}circle"):
        parsed = parse_circle(circle.text or "")
        if parsed is None:
            problems.append(f"{path}/circle: {circle.text!r} is not 'lat,lon radius'")
            continue
        problems.extend(f"{path}/circle: {p}" for p in _point_problems(parsed[0], parsed[1]))
        if parsed[2] < 0:
            problems.append(f"{path}/circle: radius {parsed[2]} is negative")
    for polygon in area.findall(f"{Q}polygon"):
        pairs = (polygon.text or "").split()
        matches = [_PAIR.fullmatch(pair) for pair in pairs]
        if len(pairs) < 4 or pairs[0] != pairs[-1] or not all(matches):
            problems.append(f"{path}/polygon: needs 4 or more 'lat,lon' pairs, first = last")
    if area.find(f"{Q}ceiling") is not None and area.find(f"{Q}altitude") is None:
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
            problems.extend(_utc_problems(parts[2], "alert/references"))
    return problems


def _rule_problems(root: ET.Element) -> list[str]:
    problems: list[str] = []
    for tag in ("identifier", "sender"):
        value = text_of(root, tag)
        if value is not None and (not value or FORBIDDEN_IN_ID.search(value)):
            problems.append(f"alert/{tag}: {value!r} must be non-empty, without spaces, "
                            "commas, '<' or '&'")  # fmt: skip
    for field in _DATETIME_FIELDS:
        for element in root.iterfind("/".join(f"{Q}{step}" for step in field.split("/"))):
            problems.extend(_utc_problems((element.text or "").strip(), f"alert/{field}"))
    problems.extend(_reference_problems(text_of(root, "references"), text_of(root, "msgType")))
    scope = text_of(root, "scope")
    if scope == "Restricted" and not text_of(root, "restriction"):
        problems.append("alert/restriction: required when scope is Restricted")
    if scope == "Private" and not text_of(root, "addresses"):
        problems.append("alert/addresses: required when scope is Private")
    for area in root.iterfind(f"{Q}info/{Q}area"):
        problems.extend(_area_problems(area, "alert/info/area"))
    return problems
