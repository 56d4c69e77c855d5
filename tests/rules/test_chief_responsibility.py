"""One chief, three responsibilities (一长三包): assignment, evidence moving each duty, the
unit's own record and its refusals, the order of the duties, per-unit counts (pure)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from exchange.examples.cold_cases import example_chief_duty_report
from exchange.examples.core import example_missing_person_report, example_rescue
from exchange.examples.dna import example_dna_comparison_request, example_kinship_verification
from exchange.examples.intake import example_tip_dispatch
from exchange.examples.workflow_outputs import example_candidate_match
from exchange.models.chief_responsibility import (
    ChiefDutyEvidenceKind,
    ChiefDutyKind,
    ChiefDutyReport,
    ChiefDutyState,
    ChiefResponsibility,
)
from exchange.models.common import AgencyRef
from exchange.models.dna import KinshipVerificationStatus
from exchange.models.missing_persons import MissingPersonCategory, MissingPersonStatus
from exchange.models.referrals import Rescue
from exchange.rules.chief_responsibility import (
    ChiefRulesFileError,
    add_evidence,
    assign,
    evidence_of,
    load_chief_rules,
    record_duty,
    unit_counts,
    with_report,
)
from exchange.rules.exceptions import RuleError

RULES = load_chief_rules()
REPORT = example_missing_person_report()
CASE = REPORT.caseId
T0 = REPORT.reportedAt
S, R, A = ChiefDutyKind.SOLVE, ChiefDutyKind.RESCUE, ChiefDutyKind.SETTLE
ASSIGNED, PROGRESS, DONE = (ChiefDutyState.ASSIGNED, ChiefDutyState.IN_PROGRESS,
                            ChiefDutyState.DISCHARGED)  # fmt: skip


def states(case: ChiefResponsibility) -> dict[ChiefDutyKind, ChiefDutyState]:
    return {d.duty: d.state for d in case.duties}


def assigned() -> ChiefResponsibility:
    case = assign(REPORT, RULES)
    assert case is not None
    return case


def moved(case: ChiefResponsibility, event: object) -> ChiefResponsibility:
    [evidence] = [e for e in evidence_of(event) if e.case_id == case.caseId]
    updated = add_evidence(case, evidence, RULES)
    assert updated is not None
    return updated


def rescue() -> Rescue:
    return example_rescue().model_copy(update={"caseId": CASE, "rescuedAt": T0 + timedelta(days=3)})


def record(duty: ChiefDutyKind, ref: str = "XA-PA-1") -> ChiefDutyReport:
    return example_chief_duty_report().model_copy(update={
        "caseId": CASE, "duty": duty, "reportedBy": REPORT.reportingUnit, "recordRef": ref,
        "reportedAt": T0 + timedelta(days=5),
    })  # fmt: skip


def test_a_minor_case_names_its_chief_and_assigns_three_duties_others_none() -> None:
    case = assigned()
    unit = REPORT.reportingUnit.unitId
    assert unit is not None
    assert unit in case.chief
    assert states(case) == {S: ASSIGNED, R: ASSIGNED, A: ASSIGNED}
    assert "一长三包" in case.reason
    assert "包破案" in case.reason
    adult = REPORT.model_copy(update={"category": MissingPersonCategory.ADULT})
    assert assign(adult, RULES) is None


def test_a_sighting_match_puts_solving_and_rescue_in_progress_not_the_aftermath() -> None:
    match = example_candidate_match().model_copy(update={"caseId": CASE})
    case = moved(assigned(), match)
    assert states(case) == {S: PROGRESS, R: PROGRESS, A: ASSIGNED}
    [duty] = [d for d in case.duties if d.duty is R]
    assert [(e.kind, e.ref) for e in duty.evidence] == [
        (ChiefDutyEvidenceKind.SIGHTING_MATCH, match.matchId)]
    assert add_evidence(case, evidence_of(match)[0], RULES) is None  # the same match: no change


def test_tips_and_dna_comparisons_name_their_cases() -> None:
    tip = example_tip_dispatch().model_copy(update={"caseId": CASE})
    assert [(e.case_id, e.item.kind) for e in evidence_of(tip)] == [
        (CASE, ChiefDutyEvidenceKind.TIP)]
    assert evidence_of(tip.model_copy(update={"caseId": None})) == []
    request = example_dna_comparison_request()
    assert evidence_of(request)[0].case_id == request.caseId
    open_match = example_kinship_verification()
    assert {e.case_id for e in evidence_of(open_match)} == {
        open_match.caseId, open_match.matchedCaseId}
    assert {e.item.kind for e in evidence_of(open_match)} == {ChiefDutyEvidenceKind.DNA_COMPARISON}


def test_the_child_rescued_discharges_rescue_and_starts_the_aftermath() -> None:
    case = moved(assigned(), rescue())
    assert states(case) == {S: ASSIGNED, R: DONE, A: PROGRESS}
    [duty] = [d for d in case.duties if d.duty is R]
    assert duty.dischargedAt == T0 + timedelta(days=3)
    assert duty.evidence[-1].summary.startswith("rescue ")


def test_a_confirmed_kinship_match_or_the_case_found_discharges_rescue() -> None:
    confirmed = example_kinship_verification().model_copy(update={
        "caseId": CASE, "status": KinshipVerificationStatus.CONFIRMED})  # fmt: skip
    assert states(moved(assigned(), confirmed))[R] is DONE
    found = REPORT.model_copy(update={"status": MissingPersonStatus.FOUND})
    case = with_report(moved(assigned(), found), found)
    assert states(case)[R] is DONE
    assert case.caseStatus is MissingPersonStatus.FOUND
    assert evidence_of(REPORT) == []  # an open report is no evidence


def test_the_units_record_solves_the_case_and_settles_only_after_the_rescue() -> None:
    case = assigned()
    solved = record_duty(case, record(S), RULES)
    assert solved is not None
    assert states(solved)[S] is DONE
    assert record_duty(solved, record(S), RULES) is None  # recorded before
    order = r"SETTLE cannot be fulfilled before RESCUE .*\[chief-duty-order\]"
    with pytest.raises(RuleError, match=order):
        record_duty(solved, record(A, "XA-SH-1"), RULES)
    settled = record_duty(moved(solved, rescue()), record(A, "XA-SH-1"), RULES)
    assert settled is not None
    assert states(settled) == {S: DONE, R: DONE, A: DONE}
    assert "XA-SH-1" in settled.duties[2].evidence[-1].summary


def test_the_units_word_alone_does_not_rescue_and_another_agency_records_nothing() -> None:
    word = r"duty: RESCUE .* not by the unit's record.*\[chief-duty-evidence\]"
    with pytest.raises(RuleError, match=word):
        record_duty(assigned(), record(R), RULES)
    foreign = record(S).model_copy(update={"reportedBy": AgencyRef(agencyId="metro-police")})
    with pytest.raises(RuleError, match=r"reportedBy.agencyId: metro-police .*\[chief-duty-unit\]"):
        record_duty(assigned(), foreign, RULES)


def test_a_discharged_duty_takes_no_more_evidence_and_progress_is_bounded() -> None:
    case = moved(assigned(), rescue())
    later = example_candidate_match().model_copy(update={"caseId": CASE})
    after = moved(case, later)
    [duty] = [d for d in after.duties if d.duty is R]
    assert [e.kind for e in duty.evidence] == [ChiefDutyEvidenceKind.RESCUE]
    for n in range(RULES.defaults.max_evidence + 5):
        after = moved(after, later.model_copy(update={"matchId": f"M-{n}"}))
    [solve] = [d for d in after.duties if d.duty is S]
    assert len(solve.evidence) == RULES.defaults.max_evidence
    assert solve.evidence[-1].ref == f"M-{RULES.defaults.max_evidence + 4}"


def test_unit_counts_take_the_latest_entry_and_the_period() -> None:
    first = assigned()
    done = record_duty(moved(first, rescue()), record(S), RULES)
    assert done is not None
    other = first.model_copy(update={"caseId": "A-OTHER"})
    counts = unit_counts([first, done, other])
    row = counts[REPORT.reportingUnit.agencyId]
    assert (row.cases, row.solved, row.rescued, row.settled, row.fulfilled) == (2, 1, 1, 0, 0)
    late = unit_counts([done], start=T0 + timedelta(days=4))[REPORT.reportingUnit.agencyId]
    assert (late.solved, late.rescued) == (1, 0)  # rescued on day 3, before the period
    settled = record_duty(done, record(A, "XA-SH-1"), RULES)
    assert settled is not None
    assert unit_counts([settled])[REPORT.reportingUnit.agencyId].fulfilled == 1


def test_rules_file_errors_name_the_table(tmp_path: Path) -> None:
    (tmp_path / "chief_responsibility_rules.toml").write_text(
        '[defaults]\nlegal_basis = "x"\nchief = "c"\n'
        '[duty.SOLVE]\nname = "s"\ndischarge = ["UNIT_RECORD"]\nafter = ["SOLVE"]\nreason = "r"\n'
        '[duty.RESCUE]\nname = "r"\ndischarge = ["RESCUE"]\nreason = "r"\n'
        '[duty.SETTLE]\nname = "a"\ndischarge = ["UNIT_RECORD"]\nreason = "r"\n',
        encoding="utf-8",
    )
    with pytest.raises(ChiefRulesFileError, match="a duty cannot wait for itself"):
        load_chief_rules(tmp_path)
    (tmp_path / "chief_responsibility_rules.toml").write_text(
        '[defaults]\nlegal_basis = "x"\nchief = "c"\n', encoding="utf-8")
    with pytest.raises(ChiefRulesFileError, match="duty"):
        load_chief_rules(tmp_path)
