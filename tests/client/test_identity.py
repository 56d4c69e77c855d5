"""The caller's principal is the only source of identity: a body or ce_source naming another
agency as the sender is refused as a field error."""

from __future__ import annotations

import pytest

from exchange.client.exceptions import SenderError
from exchange.client.identity import SENDER_FIELDS, check_sender, check_source
from exchange.examples import example
from exchange.models.exceptions import ValidationFailed
from exchange.models.registry import spec_for


@pytest.mark.parametrize("fullname", sorted(SENDER_FIELDS))
def test_the_named_sender_may_publish_and_no_one_else(fullname: str) -> None:
    event = example(spec_for(fullname).name)
    field = SENDER_FIELDS[fullname]
    sender = getattr(event, field).agencyId
    check_sender(sender, event)
    other = "health" if sender != "health" else "police"
    with pytest.raises(SenderError) as caught:
        check_sender(other, event)
    assert isinstance(caught.value, ValidationFailed)
    [error] = caught.value.errors
    assert (error.field, error.rule) == (f"{field}.agencyId", "sender_identity")
    check_sender("workflows", event)  # issues events on behalf of the agencies the rules name


def test_a_source_must_name_the_callers_own_agency() -> None:
    agencies = ("police", "health")
    check_source("police", "/agencies/police/cli", agencies)
    check_source("police", "/agencies/police", agencies)
    with pytest.raises(SenderError, match="names agency 'health'"):
        check_source("police", "/agencies/health/cli", agencies)
    for unnamed in ("/staff-app", "/agencies/test/harness", "/agencies/policeman/x", ""):
        with pytest.raises(SenderError, match="must start with /agencies/police/") as caught:
            check_source("police", unnamed, agencies)
        [error] = caught.value.errors
        assert (error.field, error.rule) == ("ce_source", "sender_identity")
