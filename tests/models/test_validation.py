"""Model validation: errors name the field path and the rule, never echo personal data."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from exchange.examples import example_json
from exchange.examples.core import example_missing_person_report
from exchange.models import (
    IdentityDocument,
    IdentityDocumentKind,
    Location,
    MissingPersonReport,
    Rescue,
    TransportSighting,
    ValidationFailed,
    validate_event,
)
from exchange.models.common import AgencyRef, AgeRange, Gender
from exchange.models.exceptions import FieldError
from exchange.models.registry import EVENTS


def _fail(model: type[Any], data: dict[str, Any]) -> list[FieldError]:
    with pytest.raises(ValidationFailed) as exc:
        validate_event(model, data)
    assert exc.value.model == model.__name__
    return exc.value.errors


def _rules(errors: list[FieldError]) -> dict[str, str]:
    return {e.field: e.rule for e in errors}


@pytest.mark.parametrize("name", list(EVENTS))
def test_example_json_validates(name: str) -> None:
    spec = EVENTS[name]
    event = validate_event(spec.model, example_json(name))
    assert isinstance(event, spec.model)


def test_naive_datetime_rejected() -> None:
    data = example_json("transport-sighting")
    data["observedAt"] = "2025-05-18T18:02:00"
    errors = _fail(TransportSighting, data)
    assert _rules(errors) == {"observedAt": "timezone_aware"}
    assert "+08:00" in errors[0].message


def test_offset_datetime_accepted_and_utc_too() -> None:
    data = example_json("transport-sighting")
    data["observedAt"] = "2025-05-18T10:02:00Z"
    event = validate_event(TransportSighting, data)
    assert event.observedAt.utcoffset() is not None


def test_unknown_enum_rejected() -> None:
    data = example_json("missing-person-report")
    data["category"] = "CHILD"
    assert _rules(_fail(MissingPersonReport, data)) == {"category": "enum"}


def test_missing_required_field() -> None:
    data = example_json("rescue")
    del data["rescuedAt"]
    assert _rules(_fail(Rescue, data)) == {"rescuedAt": "missing"}


def test_wrong_type() -> None:
    data = example_json("transport-sighting")
    data["childAtRisk"] = "perhaps"
    data["location"]["lat"] = "north"
    assert _rules(_fail(TransportSighting, data)) == {
        "childAtRisk": "bool_type",
        "location.lat": "float_type",
    }


@pytest.mark.parametrize(
    ("path", "value", "rule"),
    [
        ("location.lat", True, "float_type"),  # JSON true is no latitude (was read as 1.0)
        ("location.lon", False, "float_type"),
        ("location.lat", "34.2", "float_type"),  # a number is a JSON number
        ("childAtRisk", "true", "bool_type"),
        ("childAtRisk", 1, "bool_type"),
        ("sightingId", 12345, "string_type"),  # a string is a JSON string
        ("sightingId", True, "string_type"),
    ],
)
def test_json_input_is_strict(path: str, value: object, rule: str) -> None:
    data = example_json("transport-sighting")
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[last] = value
    assert _rules(_fail(TransportSighting, data)) == {path: rule}


def test_csv_text_is_read_laxly_on_purpose() -> None:
    data = example_json("transport-sighting")
    data["location"]["lat"] = str(data["location"]["lat"])
    data["childAtRisk"] = "true"
    event = validate_event(TransportSighting, data, strict=False)
    assert event.childAtRisk is True


def test_unknown_field_rejected() -> None:
    data = example_json("rescue")
    data["victimCount"] = 1
    assert _rules(_fail(Rescue, data)) == {"victimCount": "extra_forbidden"}


def test_nested_field_path_to_resident_id() -> None:
    data = example_json("rescue")
    data["victims"][0]["person"]["documents"][0]["number"] = "522601199807210469"
    errors = _fail(Rescue, data)
    assert _rules(errors) == {"victims.0.person.documents.0.number": "gb11643_check_char"}
    assert errors[0].message.startswith("GB 11643 check character: the 18th character")
    assert "522601199807210469" not in str(errors[0])
    assert "19980721" not in str(errors[0])  # not even the birth date


def test_several_errors_reported_at_once() -> None:
    data = example_json("missing-person-report")
    data["lastSeenLocation"]["lat"] = 134.2
    data["lastSeenLocation"]["regionCode"] = "61011"
    data["reportingUnit"]["agencyId"] = "Police!"
    errors = _fail(MissingPersonReport, data)
    assert _rules(errors) == {
        "lastSeenLocation.lat": "wgs84_latitude",
        "lastSeenLocation.regionCode": "gbt2260_format",
        "reportingUnit.agencyId": "string_pattern_mismatch",
    }


def test_validation_failed_message_lists_fields() -> None:
    data = example_json("rescue")
    data["victims"] = []
    with pytest.raises(ValidationFailed, match=r"victims: .*\[too_short\]"):
        validate_event(Rescue, data)


def test_resident_id_lower_case_x_normalised() -> None:
    doc = IdentityDocument(kind=IdentityDocumentKind.RESIDENT_ID, number="61011320160312024x")
    assert doc.number == "61011320160312024X"


def test_resident_id_only_checked_for_resident_ids() -> None:
    passport = IdentityDocument(kind=IdentityDocumentKind.PASSPORT, number="E12345678")
    assert passport.issuingCountry == "CHN"
    with pytest.raises(ValidationError, match="gb11643_issuer"):
        IdentityDocument(
            kind=IdentityDocumentKind.RESIDENT_ID, number="61011320160312024X", issuingCountry="USA"
        )


def test_person_birth_date_must_match_resident_id() -> None:
    data = example_json("missing-person-report")
    data["missingPerson"]["birthDate"] = "2016-03-13"
    assert _rules(_fail(MissingPersonReport, data)) == {
        "missingPerson": "gb11643_birth_date_mismatch"
    }


def test_person_gender_must_match_resident_id() -> None:
    data = example_json("missing-person-report")
    data["missingPerson"]["description"]["gender"] = Gender.MALE.value
    assert _rules(_fail(MissingPersonReport, data)) == {"missingPerson": "gb11643_gender_mismatch"}


def test_minor_category_needs_minor() -> None:
    data = example_json("missing-person-report")
    data["missingPerson"]["isMinor"] = False
    assert _rules(_fail(MissingPersonReport, data)) == {"": "minor_category"}


def test_event_cannot_report_the_future() -> None:
    data = example_json("transport-sighting")
    data["observedAt"] = "2025-05-18T19:00:00+08:00"
    assert _rules(_fail(TransportSighting, data)) == {"": "chronology"}


def test_referral_needs_two_units() -> None:
    data = example_json("referral")
    data["toAgency"] = copy.deepcopy(data["fromAgency"])
    assert _rules(_fail(EVENTS["referral"].model, data)) == {"": "referral_distinct_agencies"}


def test_uscc_in_revocation() -> None:
    data = example_json("intermediary-revocation")
    data["unifiedSocialCreditCode"] = "91610104MA7B3CRQ1I"
    errors = _fail(EVENTS["intermediary-revocation"].model, data)
    assert _rules(errors) == {"unifiedSocialCreditCode": "gb32100_charset"}


def test_unit_must_be_under_agency() -> None:
    with pytest.raises(ValidationError, match="agency_unit_prefix"):
        AgencyRef(agencyId="police", unitId="railway-police.xian")
    assert AgencyRef(agencyId="police", unitId="police.yanta").unitId == "police.yanta"


def test_age_range_order() -> None:
    with pytest.raises(ValidationError, match="age_range_order"):
        AgeRange(min=9, max=4)


def test_models_are_frozen() -> None:
    event = example_missing_person_report()
    with pytest.raises(ValidationError, match="frozen"):
        event.caseId = "other"  # type: ignore[misc]


def test_location_coordinates_validated_directly() -> None:
    with pytest.raises(ValidationError, match="wgs84_longitude"):
        Location(lat=34.2, lon=208.9)
