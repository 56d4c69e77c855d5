"""The registry of event types: CLI short name, Avro full name, model and Kafka record key.

Used by the CLI (``exchange publish rescue ...``), the codec (full name -> model) and the
workflows. The key is the case key, so that one case's events stay in order on one partition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pydantic import BaseModel

from exchange.errors import ExchangeError
from exchange.models.chief_responsibility import ChiefDutyReport, ChiefResponsibility
from exchange.models.cold_cases import ColdCase, ColdCaseReview
from exchange.models.compliance import ComplianceAlert
from exchange.models.dna import (
    DnaComparisonRequest,
    DnaComparisonResult,
    DnaSampleCollected,
    KinshipVerification,
    KinshipVerificationDecision,
)
from exchange.models.infants import InfantCustodyEvent
from exchange.models.intermediaries import IntermediaryRevocation, JobPlacement
from exchange.models.missing_persons import CandidateMatch, EmergencyAlert, MissingPersonReport
from exchange.models.referrals import FollowUpVisit, Referral, ReferralState, ReferralUpdate, Rescue
from exchange.models.reporting import ReportConfirmation
from exchange.models.sightings import DispatchAcknowledgement, SightingDispatch, TransportSighting
from exchange.models.tips import PublicTip, RewardEligibility, TipDispatch, TipOutcome
from exchange.models.unknown_origin import (
    UnknownOriginCheck,
    UnknownOriginChild,
    UnknownOriginDispatch,
)

__all__ = ["EVENTS", "EventSpec", "UnknownEventError", "spec_for", "spec_for_model"]


class UnknownEventError(ExchangeError, KeyError):
    """No event type has this name; ``known`` lists the names that exist."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(name)

    def __str__(self) -> str:
        return f"unknown event type {self.name!r}; known: {', '.join(self.known)}"


@dataclass(frozen=True)
class EventSpec:
    """One event type.

    ``key_field`` names the attribute holding the Kafka record key; when it is empty (an
    optional field such as a rescue's ``caseId``), ``fallback_key_field`` is used instead.
    """

    name: str
    fullname: str
    model: type[BaseModel]
    key_field: str
    fallback_key_field: str | None = None

    def key(self, event: BaseModel) -> str:
        """The Kafka record key of ``event``, an instance of :attr:`model`."""
        if not isinstance(event, self.model):
            got = type(event).__name__
            raise TypeError(f"{self.name} expects {self.model.__name__}, got {got}")
        for field in (self.key_field, self.fallback_key_field):
            if field is not None:
                value = getattr(event, field)
                if value:
                    return str(value)
        raise ValueError(f"{self.name} event has no key: {self.key_field} is empty")

    @property
    def namespace(self) -> str:
        """Avro namespace of the event, e.g. ``exchange.events``."""
        return self.fullname.rpartition(".")[0]


_SPECS = (
    EventSpec(
        "missing-person-report",
        "exchange.events.MissingPersonReport",
        MissingPersonReport,
        "caseId",
    ),
    EventSpec("rescue", "exchange.events.Rescue", Rescue, "caseId", "rescueId"),
    EventSpec("referral", "exchange.events.Referral", Referral, "caseId"),
    EventSpec(
        "transport-sighting", "exchange.events.TransportSighting", TransportSighting, "sightingId"
    ),
    EventSpec(
        "intermediary-revocation",
        "exchange.events.IntermediaryRevocation",
        IntermediaryRevocation,
        "unifiedSocialCreditCode",
    ),
    EventSpec(
        "sighting-dispatch", "exchange.events.SightingDispatch", SightingDispatch, "sightingId"
    ),
    EventSpec(
        "dispatch-acknowledgement",
        "exchange.events.DispatchAcknowledgement",
        DispatchAcknowledgement,
        "sightingId",
    ),
    EventSpec("emergency-alert", "exchange.events.EmergencyAlert", EmergencyAlert, "reference"),
    EventSpec("candidate-match", "exchange.events.CandidateMatch", CandidateMatch, "caseId"),
    EventSpec("referral-update", "exchange.events.ReferralUpdate", ReferralUpdate, "caseId"),
    EventSpec("referral-state", "exchange.events.ReferralState", ReferralState, "referralId"),
    EventSpec("compliance-alert", "exchange.events.ComplianceAlert", ComplianceAlert, "subject"),
    EventSpec("job-placement", "exchange.events.JobPlacement", JobPlacement, "placementId"),
    EventSpec(
        "infant-custody", "exchange.events.InfantCustodyEvent", InfantCustodyEvent, "caseId"
    ),
    EventSpec("public-tip", "exchange.events.PublicTip", PublicTip, "tipId"),
    EventSpec("tip-dispatch", "exchange.events.TipDispatch", TipDispatch, "tipId"),
    EventSpec("tip-outcome", "exchange.events.TipOutcome", TipOutcome, "tipId"),
    EventSpec(
        "reward-eligibility", "exchange.events.RewardEligibility", RewardEligibility, "tipId"
    ),
    EventSpec(
        "report-confirmation", "exchange.events.ReportConfirmation", ReportConfirmation, "year"
    ),
    EventSpec("follow-up-visit", "exchange.events.FollowUpVisit", FollowUpVisit, "caseId"),
    EventSpec(
        "unknown-origin-child", "exchange.events.UnknownOriginChild", UnknownOriginChild,
        "reportId",
    ),
    EventSpec(
        "unknown-origin-dispatch", "exchange.events.UnknownOriginDispatch",
        UnknownOriginDispatch, "reportId",
    ),
    EventSpec(
        "unknown-origin-check", "exchange.events.UnknownOriginCheck", UnknownOriginCheck,
        "reportId",
    ),
    EventSpec("dna-sample", "exchange.events.DnaSampleCollected", DnaSampleCollected, "sampleId"),
    EventSpec(
        "dna-comparison-request", "exchange.events.DnaComparisonRequest", DnaComparisonRequest,
        "sampleId",
    ),
    EventSpec(
        "dna-comparison-result", "exchange.events.DnaComparisonResult", DnaComparisonResult,
        "sampleId",
    ),
    EventSpec(
        "kinship-verification", "exchange.events.KinshipVerification", KinshipVerification,
        "verificationId",
    ),
    EventSpec(
        "kinship-verification-decision", "exchange.events.KinshipVerificationDecision",
        KinshipVerificationDecision, "verificationId",
    ),
    EventSpec("cold-case", "exchange.events.ColdCase", ColdCase, "caseId"),
    EventSpec("cold-case-review", "exchange.events.ColdCaseReview", ColdCaseReview, "caseId"),
    EventSpec(
        "chief-responsibility", "exchange.events.ChiefResponsibility", ChiefResponsibility,
        "caseId",
    ),
    EventSpec("chief-duty-report", "exchange.events.ChiefDutyReport", ChiefDutyReport, "caseId"),
)

#: Event specs by CLI short name, in a stable order.
EVENTS: Mapping[str, EventSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})
_BY_FULLNAME: Mapping[str, EventSpec] = MappingProxyType({s.fullname: s for s in _SPECS})
_BY_MODEL: Mapping[type[BaseModel], EventSpec] = MappingProxyType({s.model: s for s in _SPECS})


def spec_for(name_or_fullname: str) -> EventSpec:
    """Look an event type up by short name (``rescue``), Avro full name
    (``exchange.events.Rescue``) or bare record name (``Rescue``)."""
    spec = EVENTS.get(name_or_fullname) or _BY_FULLNAME.get(name_or_fullname)
    if spec is None:
        spec = _BY_FULLNAME.get(f"exchange.events.{name_or_fullname}")
    if spec is None:
        raise UnknownEventError(name_or_fullname, list(EVENTS))
    return spec


def spec_for_model(model: type[BaseModel]) -> EventSpec:
    """The spec of an event model class."""
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise UnknownEventError(model.__name__, [s.model.__name__ for s in _SPECS]) from None
