"""The event registry: names, full names, models, record keys."""

from __future__ import annotations

import pytest

from exchange.errors import ExchangeError
from exchange.examples import example
from exchange.examples.core import example_rescue
from exchange.models.registry import EVENTS, UnknownEventError, spec_for, spec_for_model


def test_five_core_events_then_the_workflow_events() -> None:
    assert list(EVENTS) == [
        "missing-person-report",
        "rescue",
        "referral",
        "transport-sighting",
        "intermediary-revocation",
        "sighting-dispatch",
        "dispatch-acknowledgement",
        "emergency-alert",
        "candidate-match",
        "referral-update",
        "referral-state",
        "compliance-alert",
        "job-placement",
        "infant-custody",
        "public-tip",
        "tip-dispatch",
        "tip-outcome",
        "reward-eligibility",
        "report-confirmation",
        "follow-up-visit",
        "unknown-origin-child",
        "unknown-origin-dispatch",
        "unknown-origin-check",
        "dna-sample",
        "dna-comparison-request",
        "dna-comparison-result",
        "kinship-verification",
        "kinship-verification-decision",
        "cold-case",
        "cold-case-review",
        "chief-responsibility",
        "chief-duty-report",
    ]


@pytest.mark.parametrize("name", list(EVENTS))
def test_lookups_agree(name: str) -> None:
    spec = EVENTS[name]
    assert spec_for(name) is spec
    assert spec_for(spec.fullname) is spec
    assert spec_for(spec.model.__name__) is spec
    assert spec_for_model(spec.model) is spec
    assert spec.fullname == f"exchange.events.{spec.model.__name__}"
    assert spec.namespace == "exchange.events"
    assert spec.key_field in spec.model.model_fields


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("missing-person-report", "A6101130000002025050001"),
        ("rescue", "A6101160000002025040017"),
        ("referral", "A6101160000002025040017"),
        ("transport-sighting", "RW-XAN-20250518-0031"),
        ("intermediary-revocation", "91610104MA7B3CRQ1H"),
    ],
)
def test_keys(name: str, key: str) -> None:
    assert EVENTS[name].key(example(name)) == key


def test_rescue_without_case_is_keyed_by_rescue_id() -> None:
    rescue = example_rescue().model_copy(update={"caseId": None})
    assert EVENTS["rescue"].key(rescue) == "R-2025-0042"


def test_key_of_wrong_model() -> None:
    with pytest.raises(TypeError, match="rescue expects Rescue"):
        EVENTS["rescue"].key(example("referral"))


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(UnknownEventError) as exc:
        spec_for("sighting")
    assert isinstance(exc.value, ExchangeError)
    assert isinstance(exc.value, KeyError)
    assert "known: missing-person-report, rescue" in str(exc.value)
    assert exc.value.known == list(EVENTS)


def test_unknown_model() -> None:
    with pytest.raises(UnknownEventError):
        spec_for_model(UnknownEventError)  # type: ignore[arg-type]
