"""A missing child found by a confirmed kinship match (Art. 6, 8, 9): the rescue that starts its
referral plan where it is found.

A confirmed ``KinshipVerification`` links a missing-person case (the relatives' sample) to the
case of the found child (e.g. a child of unknown origin reported by a school). The
``[referral_plan]`` of ``topology/dna_rules.toml`` says which kinds of sample stand for the
found child, what it was subjected to and which needs are set; the ``Rescue`` made here is
planned like any other by the referral workflow (``topology/referral_rules.toml``): civil
affairs, health, education, as the rules decide. Pure code, no Kafka.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from exchange.models.dna import KinshipVerification, KinshipVerificationStatus
from exchange.models.missing_persons import MissingPersonReport
from exchange.models.referrals import Rescue, RescuedVictim, VictimNeeds
from exchange.models.unknown_origin import UnknownOriginChild
from exchange.rules.dna import DnaRules

__all__ = ["found_child_case", "found_child_rescue", "rescue_id"]


def found_child_case(verification: KinshipVerification, rules: DnaRules) -> str | None:
    """The case id of the found child's sample (None: no plan for this match)."""
    plan = rules.referral_plan
    if plan is None or verification.status is not KinshipVerificationStatus.CONFIRMED:
        return None
    if verification.sampleKind in plan.found_kinds:
        return verification.caseId
    if verification.matchedSampleKind in plan.found_kinds:
        return verification.matchedCaseId
    return None


def rescue_id(verification: KinshipVerification) -> str:
    ident = f"RS-{verification.verificationId}"
    if len(ident) > 64:
        ident = f"RS-{hashlib.sha256(ident.encode()).hexdigest()[:32]}"
    return ident


def found_child_rescue(
    verification: KinshipVerification, report: MissingPersonReport, found: UnknownOriginChild,
    rules: DnaRules, now: datetime,
) -> Rescue | None:
    """The rescue of the child of ``report`` found as ``found``, by the unit owning ``found``'s
    case (None: the rules start no plan for this match)."""
    plan = rules.referral_plan
    case = found_child_case(verification, rules)
    if plan is None or case != found.reportId:
        return None
    owner = verification.caseOwner if case == verification.caseId else (
        verification.matchedCaseOwner)  # fmt: skip
    needs = VictimNeeds.model_validate(dict.fromkeys(plan.needs, True))
    person = report.missingPerson
    if person.name is None and found.givenName is not None:
        person = person.model_copy(update={"name": found.givenName})
    decided = min(verification.updatedAt, now)
    return Rescue(
        rescueId=rescue_id(verification), caseId=report.caseId, rescuedAt=decided,
        place=found.location, rescuingUnit=owner,
        victims=(RescuedVictim(person=person, situation=plan.situation, needs=needs),),
        notes=f"found by kinship match {verification.verificationId} (case {found.reportId}); "
        f"{plan.reason}; {rules.defaults.legal_basis}",
        reportedAt=now,
    )  # fmt: skip
