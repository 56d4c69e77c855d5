"""The DNA hand-off's rules: a verification opened, decided by an owner, escalated (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from exchange.examples import example
from exchange.examples.dna import (
    example_dna_comparison_result,
    example_dna_sample,
    example_kinship_verification_decision,
)
from exchange.models.common import AgencyRef
from exchange.models.dna import DnaSampleCollected, DnaSampleKind, KinshipVerificationStatus
from exchange.models.missing_persons import MissingPersonReport, MissingPersonStatus
from exchange.rules.dna import (
    closing_report,
    decide,
    load_dna_rules,
    open_verification,
    overdue_alert,
    owners,
)
from exchange.rules.exceptions import RuleError

NOW = datetime(2025, 9, 5, 7, tzinfo=UTC)
RULES = load_dna_rules()
LIANHU = AgencyRef(agencyId="police", unitId="police.lianhu")
RAILWAY = AgencyRef(agencyId="railway-police", unitId="railway-police.xian-station")


def mother(owner: AgencyRef = LIANHU) -> DnaSampleCollected:
    return DnaSampleCollected(
        sampleId="DNA-S-2019-0308", kind=DnaSampleKind.MISSING_CHILD_RELATIVE,
        caseId="A6101132019060100042", caseOwner=owner, relationship="MOTHER",
        collectedBy=owner, collectedAt=NOW - timedelta(days=2000),
    )  # fmt: skip


def test_a_candidate_match_links_both_cases_with_a_deadline() -> None:
    opened = open_verification(
        example_dna_comparison_result(), example_dna_sample(), mother(RAILWAY), RULES, NOW,
        time_scale=3,
    )
    assert (opened.caseId, opened.matchedCaseId) == ("UOC-2025-0031", "A6101132019060100042")
    assert opened.status is KinshipVerificationStatus.OPEN
    assert opened.verifyDueAt == NOW + timedelta(hours=24)  # 72 h at time scale 3
    assert owners(opened) == ["police", "railway-police"]
    assert "第九条" in opened.deadlineReason


def test_only_an_owner_decides_and_only_once() -> None:
    opened = open_verification(
        example_dna_comparison_result(), example_dna_sample(), mother(), RULES, NOW
    )
    decision = example_kinship_verification_decision()
    outsider = decision.model_copy(update={"decidedBy": RAILWAY})
    with pytest.raises(RuleError, match=r"railway-police owns neither case .*\[dna-verif"):
        decide(opened, outsider)
    confirmed = decide(opened, decision)
    assert confirmed is not None
    assert confirmed.status is KinshipVerificationStatus.CONFIRMED
    assert decide(confirmed, decision.model_copy(update={"confirmed": False})) is None


def test_a_confirmed_match_closes_an_open_missing_case_once() -> None:
    opened = open_verification(
        example_dna_comparison_result(), example_dna_sample(), mother(), RULES, NOW
    )
    confirmed = decide(opened, example_kinship_verification_decision())
    assert confirmed is not None
    report = example("missing-person-report")
    assert isinstance(report, MissingPersonReport)
    closing = closing_report(report, confirmed, RULES, NOW)
    assert closing is not None
    assert closing.status is MissingPersonStatus.FOUND
    assert "DNA-X-2025-0457 confirmed by police.lianhu" in closing.circumstances
    assert closing_report(closing, confirmed, RULES, NOW) is None


def test_an_overdue_verification_escalates_to_owners_and_the_office() -> None:
    opened = open_verification(
        example_dna_comparison_result(), example_dna_sample(), mother(RAILWAY), RULES, NOW
    )
    alert = overdue_alert(opened, RULES, NOW + timedelta(days=4))
    assert [a.agencyId for a in alert.addressedTo] == [
        "police", "railway-police", "joint-meeting-office",
    ]
    assert alert.kind.value == "DNA_VERIFICATION_OVERDUE"


def test_a_result_is_consistent() -> None:
    data = example_dna_comparison_result().model_dump()
    with pytest.raises(ValidationError, match="needs matchedSampleId and a likelihoodRatio"):
        example_dna_comparison_result().model_validate({**data, "likelihoodRatio": 0.5})
    with pytest.raises(ValidationError, match="NO_MATCH carries no matchedSampleId"):
        example_dna_comparison_result().model_validate({**data, "outcome": "NO_MATCH"})
