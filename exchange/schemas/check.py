"""The schema gate of CI: ``exchange schemas check``.

Checks, in order: every source and published schema parses; every published version of an
event reads every earlier one, and the current source reads them all (backward transitive);
the current source is frozen (no unpublished change); every pydantic model of
``exchange.models.registry`` mirrors the latest published schema of its event.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from exchange.schemas.catalogue import Catalogue
from exchange.schemas.compat import check_catalogue
from exchange.schemas.exceptions import SchemaError

__all__ = ["CheckResult", "run_check"]

DriftCheck = Callable[[type[BaseModel], dict[str, Any]], list[str]]


class _Spec(Protocol):
    @property
    def fullname(self) -> str: ...
    @property
    def model(self) -> type[BaseModel]: ...


@dataclass(frozen=True)
class CheckResult:
    """``ok`` is the verdict; ``lines`` are what the command prints, one finding per line."""

    ok: bool
    lines: list[str] = field(default_factory=list)


def _load_models() -> tuple[Mapping[str, _Spec], DriftCheck]:
    registry = importlib.import_module("exchange.models.registry")
    drift = importlib.import_module("exchange.models.drift")
    events: Mapping[str, _Spec] = registry.EVENTS
    check: DriftCheck = drift.check_model_matches_schema
    return events, check


def _check_models(
    catalogue: Catalogue, events: Mapping[str, _Spec], drift: DriftCheck
) -> list[str]:
    failures: list[str] = []
    modelled = set()
    for spec in events.values():
        modelled.add(spec.fullname)
        versions = catalogue.versions(spec.fullname)
        if versions:
            schema = versions[-1].schema
        elif spec.fullname in catalogue.sources:
            schema = catalogue.current(spec.fullname)
        else:
            failures.append(f"FAIL {spec.fullname}: model {spec.model.__name__} has no schema")
            continue
        failures.extend(
            f"FAIL {spec.fullname}: model {spec.model.__name__}: {problem}"
            for problem in drift(spec.model, schema)
        )
    failures.extend(
        f"FAIL {name}: schema has no pydantic model in exchange.models.registry"
        for name in catalogue.event_types
        if name not in modelled
    )
    return failures


def run_check(
    catalogue_root: Path | None = None,
    *,
    events: Mapping[str, _Spec] | None = None,
    drift: DriftCheck | None = None,
) -> CheckResult:
    """Run every check on a schema folder (default: the packaged one).

    ``events`` and ``drift`` replace ``exchange.models.registry.EVENTS`` and
    ``exchange.models.drift.check_model_matches_schema`` (tests use small models).
    """
    lines: list[str] = []
    try:
        catalogue = Catalogue.load(catalogue_root)
    except SchemaError as exc:
        return CheckResult(False, [f"FAIL {exc}"])
    parse_problems = catalogue.check_sources()
    lines.extend(f"FAIL {problem}" for problem in parse_problems)
    if not parse_problems:
        lines.append(
            f"ok   {len(catalogue.sources)} source schemas and "
            f"{sum(len(catalogue.versions(e)) for e in catalogue.event_types)} published "
            f"versions of {len(catalogue.event_types)} events parse"
        )
    report = check_catalogue(catalogue)
    lines.extend(f"FAIL {problem}" for problem in report.problems)
    if report.ok:
        lines.append("ok   every version reads every earlier version (backward transitive)")
    lines.extend(
        f"FAIL {name}: "
        + (
            "source differs from its latest published version"
            if catalogue.versions(name)
            else "no published version"
        )
        + "; run `exchange schemas freeze` and commit the new file"
        for name in report.unpublished
    )
    if not report.unpublished:
        lines.append("ok   every source is published")
    if events is None or drift is None:
        try:
            loaded_events, loaded_drift = _load_models()
        except ImportError as exc:
            lines.append(f"FAIL models: cannot import exchange.models ({exc})")
            return CheckResult(False, lines)
        events = events if events is not None else loaded_events
        drift = drift if drift is not None else loaded_drift
    model_failures = _check_models(catalogue, events, drift)
    lines.extend(model_failures)
    if not model_failures:
        lines.append(f"ok   {len(events)} pydantic models mirror their schemas")
    ok = not any(line.startswith("FAIL") for line in lines)
    return CheckResult(ok, lines)
