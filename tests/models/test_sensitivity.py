"""Sensitive field paths come from the schemas' ``sensitivity`` tags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from exchange.models.registry import EVENTS
from exchange.models.sensitivity import (
    SENSITIVITY_TAGS,
    UnknownSensitivityTagError,
    sensitive_paths,
)

Expand = Callable[[str], dict[str, Any]]


def test_missing_person_report_paths(expanded: Expand) -> None:
    paths = sensitive_paths(expanded("exchange.events.MissingPersonReport"))
    assert paths["missingPerson"] == {"minor"}
    assert paths["missingPerson.name"] == {"identity", "minor"}
    assert paths["missingPerson.documents"] == {"identity", "minor"}
    assert paths["missingPerson.documents[].number"] == {"identity", "minor"}
    assert paths["missingPerson.description.photoRef"] == {"identity", "minor"}
    assert paths["lastSeenLocation"] == {"location"}
    assert paths["lastSeenLocation.lat"] == {"location"}
    assert paths["familyContact"] == {"contact", "family"}
    for public in ("caseId", "category", "reportingUnit", "publicContactPhone", "reportedAt"):
        assert public not in paths


def test_rescue_paths_through_arrays(expanded: Expand) -> None:
    paths = sensitive_paths(expanded("exchange.events.Rescue"))
    assert paths["victims[].person.name"] == {"identity", "minor"}
    assert paths["victims[].needs.medicalCare"] == {"health"}
    assert paths["victims[].situationDetails"] == {"health"}
    assert paths["place"] == {"location"}
    assert "victims[].needs.legalAid" not in paths
    assert "rescuingUnit.agencyId" not in paths


def test_named_type_reused_by_reference_is_still_walked(expanded: Expand) -> None:
    # AgencyRef appears twice in a Referral; Person once (subject) after inlining elsewhere.
    paths = sensitive_paths(expanded("exchange.events.Referral"))
    assert paths["subject.name"] == {"identity", "minor"}
    schema = expanded("exchange.events.Rescue")
    victim = schema["fields"][5]["type"]["items"]
    assert victim["fields"][0]["type"]["name"] == "Person"


def test_revocation_has_no_personal_data(expanded: Expand) -> None:
    assert sensitive_paths(expanded("exchange.events.IntermediaryRevocation")) == {}


@pytest.mark.parametrize("name", list(EVENTS))
def test_every_tag_is_known(name: str, expanded: Expand) -> None:
    for tags in sensitive_paths(expanded(EVENTS[name].fullname)).values():
        assert tags <= SENSITIVITY_TAGS


@pytest.mark.parametrize("name", list(EVENTS))
def test_same_result_from_fastavro_parsed(name: str, expanded: Expand, parsed_schemas: Any) -> None:
    fullname = EVENTS[name].fullname
    assert sensitive_paths(parsed_schemas[fullname]) == sensitive_paths(expanded(fullname))


def test_unknown_tag_is_an_error() -> None:
    schema = {
        "type": "record",
        "name": "X",
        "fields": [{"name": "a", "type": "string", "sensitivity": ["secret"]}],
    }
    with pytest.raises(UnknownSensitivityTagError, match="'secret'") as exc:
        sensitive_paths(schema)
    assert exc.value.path == "a"
