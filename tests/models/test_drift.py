"""The models mirror the schemas; a drifted model is caught."""

# ruff: noqa: N815  -- test models use the Avro field names (camelCase), like the real ones.

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from fastavro.schema import expand_schema

from exchange.models.base import ExchangeModel
from exchange.models.common import AgencyRef, Location
from exchange.models.drift import check_model_matches_schema
from exchange.models.intermediaries import IntermediaryKind, IntermediaryRevocation
from exchange.models.registry import EVENTS
from exchange.models.sightings import TransportSighting

Expand = Callable[[str], dict[str, Any]]


@pytest.mark.parametrize("name", list(EVENTS))
def test_registry_model_matches_expanded_schema(name: str, expanded: Expand) -> None:
    spec = EVENTS[name]
    assert check_model_matches_schema(spec.model, expanded(spec.fullname)) == []


@pytest.mark.parametrize("name", list(EVENTS))
def test_matches_fastavro_parsed_and_fully_inlined(name: str, parsed_schemas: Any) -> None:
    spec = EVENTS[name]
    parsed: dict[str, Any] = parsed_schemas[spec.fullname]
    assert check_model_matches_schema(spec.model, parsed) == []
    inlined = expand_schema(parsed)
    assert isinstance(inlined, dict)
    assert check_model_matches_schema(spec.model, inlined) == []


def test_common_types_match(expanded: Expand) -> None:
    assert check_model_matches_schema(Location, expanded("exchange.common.Location")) == []
    assert check_model_matches_schema(AgencyRef, expanded("exchange.common.AgencyRef")) == []


class _Kind(enum.StrEnum):
    JOB = "JOB"
    MARRIAGE = "MARRIAGE"
    LABOUR_EXPORT = "LABOUR_EXPORT"


class _DriftedRevocation(ExchangeModel):
    # renamed field, wrong type, nullability flipped, enum with an extra symbol, date as datetime,
    # missing reportedAt, an extra field, and a default the schema does not have.
    decisionNo: str
    unifiedSocialCreditCode: int
    name: str | None = None
    licenceNumber: str | None = None
    kind: _Kind
    action: str
    reason: str = "unspecified"
    effectiveDate: datetime
    issuingUnit: AgencyRef
    extra: bool = False


def test_drifted_model_reports_each_difference(expanded: Expand) -> None:
    diffs = check_model_matches_schema(
        _DriftedRevocation, expanded("exchange.events.IntermediaryRevocation")
    )
    text = "\n".join(diffs)
    expected = [
        "decisionNumber: in schema but missing from model",
        "decisionNo: in model _DriftedRevocation but missing from schema",
        "reportedAt: in schema but missing from model",
        "extra: in model _DriftedRevocation but missing from schema",
        "unifiedSocialCreditCode: type differs: schema string, model int",
        "name: nullability differs: optional in model only",
        "kind: enum _Kind symbols differ: missing from model ['OTHER'], "
        "not in schema ['LABOUR_EXPORT']",
        "reason: model field has a default but the schema field has none",
        "effectiveDate: type differs: schema int/date, model datetime",
    ]
    for line in expected:
        assert line in text, f"{line!r} not in:\n{text}"
    assert "action: type differs: schema enum exchange.events.IntermediaryAction, model str" in text
    assert len(diffs) == len(expected) + 2  # and name: a default the schema lacks


def test_nested_drift_has_dotted_path(expanded: Expand) -> None:
    class Agency(ExchangeModel):
        agencyId: str
        unitId: str | None = None

    class Revocation(IntermediaryRevocation):
        issuingUnit: Agency  # type: ignore[assignment]

    diffs = check_model_matches_schema(
        Revocation, expanded("exchange.events.IntermediaryRevocation")
    )
    assert diffs == ["issuingUnit.displayName: in schema but missing from model Agency"]


def test_array_item_drift(expanded: Expand) -> None:
    schema = expanded("exchange.events.TransportSighting")

    class Drifted(TransportSighting):
        suspectedPersons: tuple[str, ...] = ()  # type: ignore[assignment]

    diffs = check_model_matches_schema(Drifted, schema)
    assert diffs == [
        "suspectedPersons[]: type differs: schema record exchange.common.PersonDescription, "
        "model str"
    ]


def test_schema_default_vs_model_default(expanded: Expand) -> None:
    class Kind(enum.StrEnum):
        JOB = "JOB"
        MARRIAGE = "MARRIAGE"
        OTHER = "OTHER"

    class Drifted(IntermediaryRevocation):
        kind: Kind = Kind.JOB  # type: ignore[assignment]
        effectiveDate: date

    diffs = check_model_matches_schema(Drifted, expanded("exchange.events.IntermediaryRevocation"))
    assert diffs == ["kind: model field has a default but the schema field has none"]
    assert IntermediaryKind.OTHER.value == "OTHER"


def test_unknown_named_reference_is_reported() -> None:
    schema = {
        "type": "record",
        "name": "X",
        "namespace": "t",
        "fields": [{"name": "agencyId", "type": "t.Missing"}],
    }

    class X(ExchangeModel):
        agencyId: str

    assert check_model_matches_schema(X, schema) == [
        "agencyId: schema refers to unknown type 't.Missing'"
    ]
