"""pydantic models mirroring the Avro schemas in ``schemas/avro/``, with validation by the real
standards (GB 11643, GB 32100, GB/T 2260, WGS84, timezone-aware instants).

- :mod:`.common`                 shared types: agencies and units, places, people
- event models grouped by the flow they serve (attribute names are the Avro field names):
  :mod:`.sightings`, :mod:`.missing_persons`, :mod:`.referrals`, :mod:`.intermediaries`,
  :mod:`.tips`, :mod:`.infants`, :mod:`.compliance`, :mod:`.reporting`
- :mod:`.identifiers`            standalone validators and ``Annotated`` types
- :mod:`.exceptions`             :class:`ValidationFailed`, :class:`FieldError`, ``validate_event``
- :mod:`.registry`               event types by CLI name / Avro full name, and their Kafka keys
- :mod:`.drift`                  model-versus-schema comparison
- :mod:`.sensitivity`            sensitive field paths from the schemas' ``sensitivity`` tags
"""

from __future__ import annotations

from exchange.models.common import (
    AgencyRef,
    AgeRange,
    Gender,
    IdentityDocument,
    IdentityDocumentKind,
    Location,
    Person,
    PersonDescription,
    TransportFacility,
    TransportFacilityKind,
)
from exchange.models.exceptions import (
    FieldError,
    InvalidIdentifier,
    ValidationFailed,
    validate_event,
)
from exchange.models.intermediaries import (
    IntermediaryAction,
    IntermediaryKind,
    IntermediaryRevocation,
)
from exchange.models.missing_persons import (
    MissingPersonCategory,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.models.referrals import (
    Referral,
    ReferralPurpose,
    ReferralStatus,
    Rescue,
    RescuedVictim,
    VictimNeeds,
    VictimSituation,
)
from exchange.models.registry import EVENTS, EventSpec, UnknownEventError, spec_for, spec_for_model
from exchange.models.sightings import TransportSighting

__all__ = [
    "EVENTS",
    "AgeRange",
    "AgencyRef",
    "EventSpec",
    "FieldError",
    "Gender",
    "IdentityDocument",
    "IdentityDocumentKind",
    "IntermediaryAction",
    "IntermediaryKind",
    "IntermediaryRevocation",
    "InvalidIdentifier",
    "Location",
    "MissingPersonCategory",
    "MissingPersonReport",
    "MissingPersonStatus",
    "Person",
    "PersonDescription",
    "Referral",
    "ReferralPurpose",
    "ReferralStatus",
    "Rescue",
    "RescuedVictim",
    "TransportFacility",
    "TransportFacilityKind",
    "TransportSighting",
    "UnknownEventError",
    "ValidationFailed",
    "VictimNeeds",
    "VictimSituation",
    "spec_for",
    "spec_for_model",
    "validate_event",
]
