"""The referral plan from the rules in topology/referral_rules.toml (pure, no Kafka)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from exchange.models.referrals import ReferralPurpose as P
from exchange.rules.jurisdiction import Jurisdiction, load_jurisdiction
from exchange.rules.referral_rules import (
    PersonPlan,
    ReferralRules,
    ReferralRulesFileError,
    facts_of,
    load_referral_rules,
    plan_referrals,
)
from tests.workflows.referral_people import (
    BOY_17_NOT_HOME,
    CHILD_8,
    DISABLED_MAN_AGE_UNKNOWN,
    FOREIGN_WOMAN,
    GIRL_15_WANTS_TRAINING,
    PEOPLE,
    WOMAN_GOING_HOME,
    rescue_of,
)


@pytest.fixture(scope="module")
def rules() -> ReferralRules:
    return load_referral_rules()


@pytest.fixture(scope="module")
def jurisdiction() -> Jurisdiction:
    return load_jurisdiction()


@pytest.fixture(scope="module")
def plans(rules: ReferralRules, jurisdiction: Jurisdiction) -> tuple[PersonPlan, ...]:
    return plan_referrals(rescue_of(*PEOPLE), rules, jurisdiction)


def targets(plan: PersonPlan) -> set[tuple[str, P]]:
    return {(r.unit or r.agency, r.purpose) for r in plan.referrals}


def decision(plan: PersonPlan, rule: str) -> str:
    return next(d.reason for d in plan.decisions if d.rule == rule)


def test_adult_woman_going_home(plans: tuple[PersonPlan, ...]) -> None:
    assert targets(plans[0]) == {
        ("civil-affairs.relief-station", P.TEMPORARY_ASSISTANCE),
        ("civil-affairs.relief-station", P.RETURN_HOME),
        ("health", P.MEDICAL_CARE), ("health", P.PSYCHOLOGICAL_CARE),
        ("justice", P.LEGAL_AID), ("womens-federation", P.FAMILY_SUPPORT),
        ("police.command-centre", P.FOLLOW_UP),  # home in Guizhou: outside Xi'an
    }
    assert "returning home (safe and wanted): not referred" in decision(
        plans[0], "job-training-not-home"
    )
    follow_up = next(r for r in plans[0].referrals if r.purpose is P.FOLLOW_UP)
    assert "home region 522601 outside Xi'an" in follow_up.reason


def test_boy_of_17_who_cannot_go_home_gets_training_not_school(
    plans: tuple[PersonPlan, ...],
) -> None:
    got = targets(plans[1])
    assert ("human-resources", P.JOB_TRAINING) in got
    assert ("police.yanta", P.FOLLOW_UP) in got  # his home district's sub-bureau
    assert {("justice", P.LEGAL_AID), ("health", P.PSYCHOLOGICAL_CARE)} <= got  # a minor
    assert not {p for _, p in got} & {P.SCHOOL_ENROLMENT, P.RETURN_HOME}
    training = next(r for r in plans[1].referrals if r.purpose is P.JOB_TRAINING)
    assert "aged 16+ (birth date)" in training.reason
    assert "not returning home (not safe)" in training.reason
    assert training.legal_basis.startswith("西安市反拐实施细则 第六条")


def test_girl_of_15_is_too_young_for_training_and_goes_to_school(
    plans: tuple[PersonPlan, ...],
) -> None:
    got = targets(plans[2])
    assert ("education", P.SCHOOL_ENROLMENT) in got
    assert all(agency != "human-resources" for agency, _ in got)
    assert "under 16 (birth date): not referred" in decision(plans[2], "job-training-requested")


def test_child_of_8(plans: tuple[PersonPlan, ...]) -> None:
    got = targets(plans[3])
    assert ("education", P.SCHOOL_ENROLMENT) in got
    assert ("civil-affairs.relief-station", P.RETURN_HOME) in got
    assert ("police.changan", P.FOLLOW_UP) in got
    # two rules (needs and minor) ask for temporary assistance: one referral with both reasons
    temporary = [r for r in plans[3].referrals if r.purpose is P.TEMPORARY_ASSISTANCE]
    assert [r.rules for r in temporary] == [("temporary-assistance", "temporary-assistance-minor")]
    assert " | rule temporary-assistance-minor: a minor → " in temporary[0].reason


def test_foreign_victim_is_repatriated_not_sent_home_by_civil_affairs(
    plans: tuple[PersonPlan, ...],
) -> None:
    got = targets(plans[4])
    assert {("foreign-affairs", P.REPATRIATION), ("police.exit-entry", P.REPATRIATION)} <= got
    assert not {p for _, p in got} & {P.RETURN_HOME, P.JOB_TRAINING, P.FOLLOW_UP}
    assert "nationality VNM" in decision(plans[4], "repatriation-foreign-affairs")


def test_disabled_man_of_unknown_age(plans: tuple[PersonPlan, ...]) -> None:
    got = targets(plans[5])
    assert ("disabled-persons-federation", P.DISABILITY_SUPPORT) in got
    assert ("police.weiyang", P.FOLLOW_UP) in got
    assert "age unknown: not referred" in decision(plans[5], "job-training-not-home")


def test_every_rule_is_decided_with_a_reason_and_no_personal_data(
    plans: tuple[PersonPlan, ...], rules: ReferralRules,
) -> None:
    for plan in plans:
        assert [d.rule for d in plan.decisions] == [r.id for r in rules.rules]
        for d in plan.decisions:
            assert d.reason.startswith(f"rule {d.rule}: ")
            assert ("→" in d.reason) == d.applies
            assert "李芳" not in d.reason
            assert "522601199807210468" not in d.reason
            assert "1998" not in d.reason  # no birth date, only the age band


def test_age_comes_from_birth_date_then_stated_age_then_range() -> None:
    on = date(2025, 5, 20)
    assert facts_of(BOY_17_NOT_HOME, on).age == 17
    assert facts_of(CHILD_8, on).age_source == "stated age"
    assert facts_of(FOREIGN_WOMAN, on).age == 20  # low end: a child is never taken for an adult
    assert facts_of(DISABLED_MAN_AGE_UNKNOWN, on).age is None
    assert facts_of(GIRL_15_WANTS_TRAINING, on).school_age
    assert not facts_of(WOMAN_GOING_HOME, on).minor


def test_rules_file_errors_name_the_rule_and_field(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "topology"
    for name in ("agencies.toml", "topics.toml"):
        (tmp_path / name).write_text((source / name).read_text())
    good = (source / "referral_rules.toml").read_text()
    (tmp_path / "referral_rules.toml").write_text(
        good.replace('to = "education"', 'to = "schools"')
    )
    with pytest.raises(ReferralRulesFileError, match=r"rule\[school-enrolment\]\.to"):
        load_referral_rules(tmp_path)
    (tmp_path / "referral_rules.toml").write_text(
        good.replace('needs = ["legalAid"]', 'needs = ["lawyer"]')
    )
    with pytest.raises(ReferralRulesFileError, match=r"rule\[legal-aid\]\.when\.needs"):
        load_referral_rules(tmp_path)
