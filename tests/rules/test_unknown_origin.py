"""Children of unknown origin: routing, deadlines as data, the escalation (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from exchange.examples.children import example_unknown_origin_check, example_unknown_origin_child
from exchange.models.common import AgeRange, Location, PersonDescription
from exchange.models.unknown_origin import UnknownOriginCheckOutcome, UnknownOriginSource
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.rules.unknown_origin import (
    UnknownOriginRulesFileError,
    dispatch_report,
    load_unknown_origin_rules,
    unchecked_alert,
)

NOW = datetime(2025, 9, 1, 9, tzinfo=UTC)
RULES = load_unknown_origin_rules()


def test_a_school_report_goes_to_the_district_police_with_a_week_and_a_dna_request() -> None:
    dispatch = dispatch_report(example_unknown_origin_child(), RULES, load_jurisdiction(), NOW)
    assert dispatch.target.unitId == "police.yanta"
    assert dispatch.rule == "region-code"
    assert dispatch.deadlineRule == "school-enrolment"
    assert dispatch.checkDueAt == NOW + timedelta(hours=168)
    assert dispatch.dnaSampleRequested
    assert "第九条" in dispatch.deadlineReason


def test_a_young_or_ageless_child_is_checked_within_a_day_whoever_reports() -> None:
    young = example_unknown_origin_child().model_copy(update={
        "child": PersonDescription(ageRange=AgeRange(min=3, max=4)),
    })  # fmt: skip
    ageless = example_unknown_origin_child().model_copy(update={
        "child": PersonDescription(), "source": UnknownOriginSource.HEALTH,
    })  # fmt: skip
    for report in (young, ageless):
        dispatch = dispatch_report(report, RULES, load_jurisdiction(), NOW, time_scale=2)
        assert dispatch.deadlineRule == "young-child"
        assert dispatch.checkDueAt == NOW + timedelta(hours=12)  # 24 h at time scale 2


def test_an_older_child_found_by_civil_affairs_has_the_default_deadline() -> None:
    report = example_unknown_origin_child().model_copy(update={
        "child": PersonDescription(ageYears=11), "source": UnknownOriginSource.CIVIL_AFFAIRS,
        "location": Location(lat=39.9, lon=116.4),
    })  # fmt: skip
    dispatch = dispatch_report(report, RULES, load_jurisdiction(), NOW)
    assert dispatch.deadlineRule == "default"
    assert dispatch.target.unitId == "police.command-centre"  # outside Xi'an: by hand
    assert dispatch.flagged


def test_the_escalation_names_unit_deadline_and_joint_meeting_office_not_the_child() -> None:
    dispatch = dispatch_report(example_unknown_origin_child(), RULES, load_jurisdiction(), NOW)
    alert = unchecked_alert(dispatch, RULES, NOW + timedelta(days=8))
    assert [a.agencyId for a in alert.addressedTo] == ["police", "joint-meeting-office"]
    assert alert.kind.value == "UNKNOWN_ORIGIN_UNCHECKED"
    assert "police.yanta" in alert.reason
    assert "小明" not in alert.reason
    assert alert.alertId == "UOC-2025-0031:unchecked"


def test_a_report_needs_grounds_and_a_check_a_sample() -> None:
    with pytest.raises(ValidationError, match="noHouseholdRegistration or noBirthRecord"):
        example_unknown_origin_child().model_validate({
            **example_unknown_origin_child().model_dump(),
            "noHouseholdRegistration": False, "noBirthRecord": False,
        })  # fmt: skip
    check = example_unknown_origin_check().model_dump()
    with pytest.raises(ValidationError, match="dnaSampleId is required when the outcome is"):
        example_unknown_origin_check().model_validate({**check, "dnaSampleId": None})
    established = {**check, "dnaSampleId": None, "outcome": "ORIGIN_ESTABLISHED"}
    checked = example_unknown_origin_check().model_validate(established)
    assert checked.outcome is UnknownOriginCheckOutcome.ORIGIN_ESTABLISHED


def test_the_rules_file_must_end_with_an_unconditional_deadline(tmp_path: Path) -> None:
    text = (Path("topology") / "unknown_origin_rules.toml").read_text(encoding="utf-8")
    cut = text[: text.index('[[deadline]]\nid = "default"')]
    (tmp_path / "unknown_origin_rules.toml").write_text(cut, encoding="utf-8")
    with pytest.raises(UnknownOriginRulesFileError, match="the last deadline must have no"):
        load_unknown_origin_rules(tmp_path)
