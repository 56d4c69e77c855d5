"""The cold-case ledger's rules: entering, reviews, leads, escalation, the investigator's
order (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exchange.examples.core import example_missing_person_report
from exchange.models.cold_cases import ColdCaseLead, ColdCaseLeadKind, ColdCaseReview
from exchange.models.common import AgencyRef
from exchange.models.missing_persons import MissingPersonCategory, MissingPersonStatus
from exchange.rules.cold_cases import (
    add_lead,
    enter_ledger,
    enters_ledger_at,
    investigator_view,
    leads_since_review,
    load_cold_case_rules,
    overdue_alert,
    record_review,
)
from exchange.rules.exceptions import RuleError

RULES = load_cold_case_rules()
REPORT = example_missing_person_report()
T0 = REPORT.lastSeenAt


def test_an_open_minor_case_enters_after_the_period_and_others_never() -> None:
    assert enters_ledger_at(REPORT, RULES) == T0 + timedelta(days=90)
    fast = load_cold_case_rules(time_scale=90 * 24)  # 90 days last 1 hour
    assert enters_ledger_at(REPORT, fast) == T0 + timedelta(hours=1)
    found = REPORT.model_copy(update={"status": MissingPersonStatus.FOUND})
    adult = REPORT.model_copy(update={"category": MissingPersonCategory.ADULT})
    assert enters_ledger_at(found, RULES) is None
    assert enters_ledger_at(adult, RULES) is None


def test_the_entry_names_unit_chief_and_next_review() -> None:
    now = T0 + timedelta(days=91)
    case = enter_ledger(REPORT, RULES, now)
    assert case.unit == REPORT.reportingUnit
    assert (REPORT.reportingUnit.unitId or "") in case.chief
    assert case.nextReviewDue == now + timedelta(days=30)
    assert "一长三包" in case.reason


def test_reviews_by_the_unit_move_the_due_date_and_leads_are_shown_since() -> None:
    now = T0 + timedelta(days=91)
    case = enter_ledger(REPORT, RULES, now)
    lead = ColdCaseLead(at=now + timedelta(days=1), kind=ColdCaseLeadKind.SIGHTING_MATCH,
                        ref="M-1", summary="sighting S-1 scored 0.81")
    with_lead = add_lead(case, lead)
    assert with_lead is not None
    assert add_lead(with_lead, lead) is None  # the same lead twice
    assert leads_since_review(with_lead) == [lead]
    review = ColdCaseReview(caseId=case.caseId, reviewedBy=case.unit, summary="files re-read",
                            reviewedAt=now + timedelta(days=2))
    reviewed = record_review(with_lead, review, RULES)
    assert reviewed.nextReviewDue == review.reviewedAt + timedelta(days=30)
    assert reviewed.reviews == 1
    assert leads_since_review(reviewed) == []
    other = review.model_copy(update={"reviewedBy": AgencyRef(agencyId="metro-police")})
    with pytest.raises(RuleError, match=r"\[cold-case-unit\]"):
        record_review(with_lead, other, RULES)


def test_overdue_first_then_by_due_and_the_alert_reaches_the_office() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    late = enter_ledger(REPORT.model_copy(update={"caseId": "A-LATE"}), RULES,
                        now - timedelta(days=40))
    soon = enter_ledger(REPORT.model_copy(update={"caseId": "A-SOON"}), RULES,
                        now - timedelta(days=20))
    later = enter_ledger(REPORT.model_copy(update={"caseId": "A-LATER"}), RULES,
                         now - timedelta(days=5))
    closed = later.model_copy(update={"caseId": "A-CLOSED", "closed": True})
    order = investigator_view([later, closed, soon, late], now)
    assert [c.caseId for c in order] == ["A-LATE", "A-SOON", "A-LATER"]
    assert investigator_view([late], now, unit="metro-police") == []
    alert = overdue_alert(late, RULES, now)
    assert [a.agencyId for a in alert.addressedTo] == ["police", "joint-meeting-office"]
    assert alert.kind.value == "COLD_CASE_REVIEW_OVERDUE"
    assert late.chief in alert.reason
