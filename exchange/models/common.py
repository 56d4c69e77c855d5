"""Shared types (Avro namespace ``exchange.common``): agencies, places, persons.

Each class mirrors ``schemas/avro/exchange.common.<Name>.avsc`` field for field; see the schema
docs for the meaning of each field and its sensitivity tags.
"""

# ruff: noqa: N815  -- attribute names are the Avro field names (camelCase) by design.

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated, Self

from pydantic import Field, StringConstraints, ValidationInfo, field_validator, model_validator

from exchange.models.base import MAX_IDENTIFIER, ExchangeModel
from exchange.models.exceptions import InvalidIdentifier
from exchange.models.identifiers import (
    CountryCode,
    Latitude,
    Longitude,
    RegionCode,
    Uri,
    check_resident_id,
    resident_id_birth_date,
    resident_id_is_male,
)
from exchange.models.rule_errors import rule_error

__all__ = [
    "AgeRange",
    "AgencyRef",
    "Gender",
    "IdentityDocument",
    "IdentityDocumentKind",
    "Location",
    "Person",
    "PersonDescription",
    "TransportFacility",
    "TransportFacilityKind",
]

MAX_AGENCY_ID = 64
MAX_UNIT_ID = 128
AgencyId = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=MAX_AGENCY_ID)
]
UnitId = Annotated[
    str,
    StringConstraints(
        pattern=r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$", max_length=MAX_UNIT_ID
    ),
]
Age = Annotated[int, Field(ge=0, le=150)]


class AgencyRef(ExchangeModel):
    """A member unit of the joint meeting (反拐联席会议成员单位), optionally one of its units."""

    agencyId: AgencyId
    unitId: UnitId | None = None
    displayName: str | None = None

    @model_validator(mode="after")
    def _unit_under_agency(self) -> Self:
        if self.unitId is not None and not self.unitId.startswith(self.agencyId + "."):
            raise rule_error(
                "agency_unit_prefix",
                f"unitId {self.unitId!r} must start with the agencyId followed by a dot "
                f"({self.agencyId + '.'!r})",
            )
        return self


class TransportFacilityKind(enum.StrEnum):
    """Kind of transport facility or vehicle."""

    RAILWAY_STATION = "RAILWAY_STATION"
    TRAIN = "TRAIN"
    AIRPORT = "AIRPORT"
    FLIGHT = "FLIGHT"
    METRO_STATION = "METRO_STATION"
    METRO_TRAIN = "METRO_TRAIN"
    BUS_STATION = "BUS_STATION"
    COACH = "COACH"
    OTHER = "OTHER"


class TransportFacility(ExchangeModel):
    """A station, airport or vehicle; ``nextStop`` is where police can meet a moving vehicle."""

    kind: TransportFacilityKind
    code: str | None = None
    name: str | None = None
    nextStop: str | None = None


class Location(ExchangeModel):
    """A WGS84 position with optional GB/T 2260 region, address and transport facility."""

    lat: Latitude
    lon: Longitude
    regionCode: RegionCode | None = None
    address: str | None = None
    facility: TransportFacility | None = None


class AgeRange(ExchangeModel):
    """Estimated age range in years, both ends inclusive."""

    min: Age
    max: Age

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise rule_error(
                "age_range_order", f"age range min {self.min} is above max {self.max}"
            )
        return self


class Gender(enum.StrEnum):
    """Gender as observed or recorded."""

    MALE = "MALE"
    FEMALE = "FEMALE"
    UNKNOWN = "UNKNOWN"


class PersonDescription(ExchangeModel):
    """What a person looks like; every part optional."""

    ageYears: Age | None = None
    ageRange: AgeRange | None = None
    gender: Gender = Gender.UNKNOWN
    heightCm: Annotated[int, Field(gt=0, le=260)] | None = None
    clothing: str | None = None
    distinguishingMarks: str | None = None
    photoRef: Uri | None = None


class IdentityDocumentKind(enum.StrEnum):
    """Kind of identity document (居民身份证 resident ID, 户口簿 household register)."""

    RESIDENT_ID = "RESIDENT_ID"
    PASSPORT = "PASSPORT"
    HOUSEHOLD_REGISTER = "HOUSEHOLD_REGISTER"
    OTHER = "OTHER"


class IdentityDocument(ExchangeModel):
    """An identity document; a RESIDENT_ID number must pass GB 11643 and be issued by CHN."""

    kind: IdentityDocumentKind
    number: Annotated[str, StringConstraints(min_length=1, max_length=MAX_IDENTIFIER)]
    issuingCountry: CountryCode = "CHN"

    @field_validator("number")
    @classmethod
    def _resident_id(cls, number: str, info: ValidationInfo) -> str:
        if info.data.get("kind") is IdentityDocumentKind.RESIDENT_ID:
            try:
                return check_resident_id(number)
            except InvalidIdentifier as exc:
                raise rule_error(exc.rule, exc.errors[0].message) from exc
        return number

    @field_validator("issuingCountry")
    @classmethod
    def _resident_id_is_chinese(cls, country: str, info: ValidationInfo) -> str:
        if info.data.get("kind") is IdentityDocumentKind.RESIDENT_ID and country != "CHN":
            raise rule_error(
                "gb11643_issuer", f"a RESIDENT_ID (居民身份证) is issued by 'CHN', got {country!r}"
            )
        return country


class Person(ExchangeModel):
    """A missing person, a victim or the subject of a referral.

    Where a resident ID is given, its birth date and sex must agree with ``birthDate`` and
    ``description.gender`` when those are given (GB 11643 encodes both).
    """

    name: str | None = None
    isMinor: bool = False
    birthDate: date | None = None
    description: PersonDescription
    documents: tuple[IdentityDocument, ...] = ()
    nationality: CountryCode | None = None
    homeRegionCode: RegionCode | None = None

    @model_validator(mode="after")
    def _consistent_with_resident_id(self) -> Self:
        for doc in self.documents:
            if doc.kind is not IdentityDocumentKind.RESIDENT_ID:
                continue
            born = resident_id_birth_date(doc.number, checked=True)
            if self.birthDate is not None and self.birthDate != born:
                raise rule_error(
                    "gb11643_birth_date_mismatch",
                    f"birthDate {self.birthDate.isoformat()} differs from the birth date "
                    f"{born.isoformat()} in the resident ID",
                )
            gender = self.description.gender
            if gender is not Gender.UNKNOWN:
                male = resident_id_is_male(doc.number, checked=True)
                encoded = Gender.MALE if male else Gender.FEMALE
                if gender is not encoded:
                    raise rule_error(
                        "gb11643_gender_mismatch",
                        f"description.gender {gender.value} differs from the sex encoded in the "
                        f"resident ID sequence ({encoded.value}: odd = male, even = female)",
                    )
        return self
