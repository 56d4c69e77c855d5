"""One fictional, valid example of every event type (``exchange example EVENT``), used by the
docs, the tests and the demo: :mod:`.core` the five core events, :mod:`.workflow_outputs` what
the workflows publish and the agencies answer, :mod:`.intake` the intake and follow-up events.

``example_json(name)`` gives the JSON a user would write for ``exchange publish <name>``:
ISO-8601 times with a +08:00 offset, dates as YYYY-MM-DD, unset optional fields left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from exchange.examples.children import (
    example_unknown_origin_check,
    example_unknown_origin_child,
    example_unknown_origin_dispatch,
)
from exchange.examples.cold_cases import (
    example_chief_duty_report,
    example_chief_responsibility,
    example_cold_case,
    example_cold_case_review,
)
from exchange.examples.core import (
    example_intermediary_revocation,
    example_missing_person_report,
    example_referral,
    example_rescue,
    example_transport_sighting,
)
from exchange.examples.dna import (
    example_dna_comparison_request,
    example_dna_comparison_result,
    example_dna_sample,
    example_kinship_verification,
    example_kinship_verification_decision,
)
from exchange.examples.intake import (
    example_follow_up_visit,
    example_infant_custody,
    example_job_placement,
    example_public_tip,
    example_report_confirmation,
    example_reward_eligibility,
    example_tip_dispatch,
    example_tip_outcome,
)
from exchange.examples.workflow_outputs import (
    example_candidate_match,
    example_compliance_alert,
    example_dispatch_acknowledgement,
    example_emergency_alert,
    example_referral_state,
    example_referral_update,
    example_sighting_dispatch,
)
from exchange.models.registry import spec_for

__all__ = ["EXAMPLES", "example", "example_json"]

#: Example factories by event short name.
EXAMPLES: dict[str, Callable[[], BaseModel]] = {
    "missing-person-report": example_missing_person_report,
    "rescue": example_rescue,
    "referral": example_referral,
    "transport-sighting": example_transport_sighting,
    "intermediary-revocation": example_intermediary_revocation,
    "sighting-dispatch": example_sighting_dispatch,
    "dispatch-acknowledgement": example_dispatch_acknowledgement,
    "emergency-alert": example_emergency_alert,
    "candidate-match": example_candidate_match,
    "referral-update": example_referral_update,
    "referral-state": example_referral_state,
    "compliance-alert": example_compliance_alert,
    "job-placement": example_job_placement,
    "infant-custody": example_infant_custody,
    "public-tip": example_public_tip,
    "tip-dispatch": example_tip_dispatch,
    "tip-outcome": example_tip_outcome,
    "reward-eligibility": example_reward_eligibility,
    "report-confirmation": example_report_confirmation,
    "follow-up-visit": example_follow_up_visit,
    "unknown-origin-child": example_unknown_origin_child,
    "unknown-origin-dispatch": example_unknown_origin_dispatch,
    "unknown-origin-check": example_unknown_origin_check,
    "dna-sample": example_dna_sample,
    "dna-comparison-request": example_dna_comparison_request,
    "dna-comparison-result": example_dna_comparison_result,
    "kinship-verification": example_kinship_verification,
    "kinship-verification-decision": example_kinship_verification_decision,
    "cold-case": example_cold_case,
    "cold-case-review": example_cold_case_review,
    "chief-responsibility": example_chief_responsibility,
    "chief-duty-report": example_chief_duty_report,
}


def example(name: str) -> BaseModel:
    """The example event for a short name, Avro full name or record name."""
    return EXAMPLES[spec_for(name).name]()


def example_json(name: str) -> dict[str, Any]:
    """The example as the JSON a user writes for ``exchange publish``."""
    return example(name).model_dump(mode="json", exclude_none=True)
