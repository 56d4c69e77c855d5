"""Validation rules, each shown with the error it really produces.

A probe breaks one rule in an example event (``exchange example``) and validates it as the
CLI, the gateway and the connectors do (:func:`exchange.models.exceptions.validate_event`);
the site prints the error the validator returned, not a text written by hand. A probe whose
rule no longer produces its error fails the build (and the tests), so the page cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from exchange.docsite.exceptions import DocsiteError
from exchange.examples import example_json
from exchange.models.exceptions import FieldError, ValidationFailed, validate_event
from exchange.models.registry import spec_for

Data = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Data], None]:
    steps = [int(s) if s.isdigit() else s for s in path.split(".")]

    def apply(data: Data) -> None:
        node: Any = data
        for step in steps[:-1]:
            node = node[step]
        node[steps[-1]] = value

    return apply


def _drop(path: str) -> Callable[[Data], None]:
    def apply(data: Data) -> None:
        data.pop(path)

    return apply


@dataclass(frozen=True)
class Probe:
    rule: str
    standard: str
    event: str
    change: str
    breaks: Callable[[Data], None]


_DOC = "victims.0.person.documents.0.number"
PROBES: tuple[Probe, ...] = (
    Probe("gb11643_check_char", "GB 11643 resident ID: ISO 7064 MOD 11-2 check character",
          "rescue", f"{_DOC} = 522601199807210461", _set(_DOC, "522601199807210461")),
    Probe("gb11643_length", "GB 11643 resident ID: 18 characters", "rescue",
          f"{_DOC} = 52260119980721", _set(_DOC, "52260119980721")),
    Probe("gb11643_birth_date", "GB 11643 resident ID: characters 7-14 are a real date",
          "rescue", f"{_DOC} = 522601199813210468", _set(_DOC, "522601199813210468")),
    Probe("gb32100_check_char", "GB 32100 unified social credit code: MOD 31 check character",
          "intermediary-revocation", "unifiedSocialCreditCode = 91610104MA7B3CRQ1J",
          _set("unifiedSocialCreditCode", "91610104MA7B3CRQ1J")),
    Probe("gb32100_charset", "GB 32100: only 0-9 and A-Z without I, O, S, V, Z", "intermediary-"
          "revocation", "unifiedSocialCreditCode = 91610104MA7B3CRQ1O",
          _set("unifiedSocialCreditCode", "91610104MA7B3CRQ1O")),
    Probe("gbt2260_province", "GB/T 2260 region code: a real province prefix",
          "transport-sighting", "location.regionCode = 990101",
          _set("location.regionCode", "990101")),
    Probe("wgs84_latitude", "WGS84 latitude within ±90°", "transport-sighting",
          "location.lat = 95.0", _set("location.lat", 95.0)),
    Probe("timezone_aware", "Times carry a UTC offset (RFC 3339)", "transport-sighting",
          "observedAt = 2025-05-18T18:02:00", _set("observedAt", "2025-05-18T18:02:00")),
    Probe("chronology", "Nothing is observed after it is reported", "transport-sighting",
          "observedAt = 2025-05-18T23:00:00+08:00",
          _set("observedAt", "2025-05-18T23:00:00+08:00")),
    Probe("iso3166_alpha3", "ISO 3166-1 alpha-3 country codes", "rescue",
          "victims.0.person.nationality = CN", _set("victims.0.person.nationality", "CN")),
    Probe("referral_update_reason", "A declined referral says why", "referral-update",
          "status = DECLINED (no reason)", _set("status", "DECLINED")),
    Probe("tip_result", "A tip that led to a result says which", "tip-outcome",
          "result removed (ledToResult = true)", _drop("result")),
    Probe("missing", "Required fields are present", "transport-sighting",
          "sightingId removed", _drop("sightingId")),
    Probe("extra_forbidden", "No field outside the contract", "transport-sighting",
          "colour = red added", _set("colour", "red")),
    Probe("enum", "Enumerations take one of their symbols", "referral-update",
          "status = DONE", _set("status", "DONE")),
)


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    errors: tuple[FieldError, ...]


def run_probe(probe: Probe) -> ProbeResult:
    """Break the example as the probe says and validate it; the probe's rule must be reported."""
    spec = spec_for(probe.event)
    data = example_json(spec.name)
    probe.breaks(data)
    try:
        validate_event(spec.model, data)
    except ValidationFailed as failed:
        errors = tuple(failed.errors)
    else:
        errors = ()
    if not any(error.rule == probe.rule for error in errors):
        got = ", ".join(e.rule for e in errors) or "no error"
        raise DocsiteError(f"validation probe {probe.rule} ({probe.change}) produced {got}")
    return ProbeResult(probe, errors)
