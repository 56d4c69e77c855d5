"""The rescue a confirmed kinship match starts for the found child (pure rules)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from exchange.examples.children import example_unknown_origin_child
from exchange.examples.core import example_missing_person_report
from exchange.examples.dna import example_kinship_verification
from exchange.models.dna import DnaSampleKind, KinshipVerification, KinshipVerificationStatus
from exchange.rules.dna import load_dna_rules
from exchange.rules.found_child import found_child_case, found_child_rescue

RULES = load_dna_rules()


def confirmed() -> KinshipVerification:
    return example_kinship_verification().model_copy(
        update={"status": KinshipVerificationStatus.CONFIRMED})


def test_the_found_child_is_rescued_where_it_was_reported() -> None:
    verification, found = confirmed(), example_unknown_origin_child()
    report = example_missing_person_report().model_copy(update={"caseId":
                                                                verification.matchedCaseId})
    now = verification.updatedAt + timedelta(minutes=5)
    rescue = found_child_rescue(verification, report, found, RULES, now)
    assert rescue is not None
    assert (rescue.caseId, rescue.place, rescue.rescuingUnit) == (
        report.caseId, found.location, verification.caseOwner)
    needs = rescue.victims[0].needs
    assert needs.temporaryAssistance
    assert needs.psychologicalCare
    assert needs.canReturnHome
    assert not needs.legalAid
    assert rescue.rescuedAt == verification.updatedAt
    assert rescue.reportedAt == now
    assert "第六条" in (rescue.notes or "")


def test_no_plan_for_an_open_match_other_kinds_or_without_rules() -> None:
    verification = confirmed()
    assert found_child_case(verification, RULES) == verification.caseId
    opened = verification.model_copy(update={"status": KinshipVerificationStatus.OPEN})
    assert found_child_case(opened, RULES) is None
    infant = verification.model_copy(update={"sampleKind": DnaSampleKind.ABANDONED_INFANT})
    assert found_child_case(infant, RULES) is None
    assert found_child_case(verification, replace(RULES, referral_plan=None)) is None
    other = example_unknown_origin_child().model_copy(update={"reportId": "UOC-OTHER"})
    report = example_missing_person_report()
    assert found_child_rescue(verification, report, other, RULES, verification.updatedAt) is None
