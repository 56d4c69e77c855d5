"""An addressed event goes to its addressee's inbox or nowhere (no broker needed: refused
before anything is encoded)."""

from __future__ import annotations

import pytest

from exchange.client.addressing import ADDRESSEE_FIELDS, check_addressee
from exchange.client.exceptions import AddresseeError
from exchange.client.publisher import choose_topic
from exchange.examples import example
from exchange.models.common import AgencyRef
from exchange.models.exceptions import ValidationFailed
from exchange.models.referrals import Referral
from exchange.models.registry import spec_for
from exchange.topology.loader import load_topology
from exchange.topology.model import Topology


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology()


def referral_to(agency: str) -> Referral:
    referral = example("referral")
    assert isinstance(referral, Referral)
    return referral.model_copy(update={"toAgency": AgencyRef(agencyId=agency)})


def test_a_referral_goes_to_its_addressees_inbox(topology: Topology) -> None:
    event = referral_to("civil-affairs")
    assert choose_topic(topology, "police", event) == "exchange.referral.to.civil-affairs"
    topic = "exchange.referral.to.civil-affairs"
    assert choose_topic(topology, "police", event, topic) == topic


def test_another_agencys_inbox_is_refused_as_a_field_error(topology: Topology) -> None:
    with pytest.raises(AddresseeError) as caught:
        choose_topic(
            topology, "police", referral_to("civil-affairs"), "exchange.referral.to.health"
        )
    error = caught.value
    assert isinstance(error, ValidationFailed)
    [one] = error.errors
    assert (one.field, one.rule) == ("toAgency.agencyId", "addressee_topic")
    assert "'health'" in one.message
    assert "'civil-affairs'" in one.message


@pytest.mark.parametrize("agency", ["no-such-agency", "workflows"])
def test_an_addressee_without_an_inbox_is_a_field_error(topology: Topology, agency: str) -> None:
    with pytest.raises(AddresseeError) as caught:
        choose_topic(topology, "police", referral_to(agency))
    [one] = caught.value.errors
    assert (one.field, one.rule) == ("toAgency.agencyId", "unknown_addressee")
    assert "--topic" not in str(caught.value)


@pytest.mark.parametrize("fullname", sorted(ADDRESSEE_FIELDS))
def test_every_addressed_event_type_has_inboxes(topology: Topology, fullname: str) -> None:
    assert any(t.addressed_to for t in topology.topics_for_event(fullname))
    event = example(spec_for(fullname).name)
    check_addressee(topology, event)  # the examples are addressed to agencies with an inbox


def test_every_event_type_with_inboxes_is_addressed(topology: Topology) -> None:
    inboxed = {e for t in topology.topics if t.addressed_to for e in t.event_types}
    assert inboxed == set(ADDRESSEE_FIELDS)
