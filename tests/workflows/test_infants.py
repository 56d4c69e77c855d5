"""The DNA-before-intake rule for abandoned infants (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from exchange.examples.intake import example_infant_custody
from exchange.models.common import AgencyRef
from exchange.models.infants import InfantCustodyEvent, InfantCustodyStep
from exchange.workflows.infants import missing_sample

NOW = datetime(2025, 6, 5, tzinfo=UTC)


def intake(sample: str | None) -> InfantCustodyEvent:
    return InfantCustodyEvent.model_validate({
        **example_infant_custody().model_dump(), "eventId": "IN-1",
        "step": InfantCustodyStep.WELFARE_INTAKE, "dnaDatabaseRef": None,
        "dnaSampleEventId": sample, "institution": "西安市儿童福利院",
        "unit": AgencyRef(agencyId="civil-affairs"),
    })


def test_intake_after_its_sample_is_in_order() -> None:
    assert missing_sample(intake("DNA-2025-0091"), collected=True, now=NOW) is None


@pytest.mark.parametrize(
    ("sample", "says"),
    [(None, "names no DNA sample"), ("DNA-9", "names DNA sample DNA-9, not one collected")],
)
def test_intake_without_its_sample_alerts_police_and_civil_affairs(
    sample: str | None, says: str
) -> None:
    alert = missing_sample(intake(sample), collected=False, now=NOW)
    assert alert is not None
    assert says in alert.reason
    assert {a.agencyId for a in alert.addressedTo} == {"police", "civil-affairs"}
    assert alert.caseId == "A6101030000002025060004"
    assert "Art. 8" in alert.reason


def test_steps_carry_their_own_fields() -> None:
    with pytest.raises(ValueError, match="infant_dna_reference"):
        example_infant_custody().model_validate(
            {**example_infant_custody().model_dump(), "dnaDatabaseRef": None}
        )
    with pytest.raises(ValueError, match="infant_institution"):
        intake(None).model_validate({**intake(None).model_dump(), "institution": None})
