"""Addressed events: an event with an addressee goes to its addressee's inbox or nowhere.

A referral names its ``toAgency``, a sighting or tip dispatch its ``target``, a candidate match
its ``owner``, a compliance alert every agency in ``addressedTo``, an unknown-origin dispatch its
``target``, a kinship verification both case owners (``caseOwner``, ``matchedCaseOwner``); the
topology gives each of them an inbox per agency (``exchange.referral.to.<agency>``,
``addressed_to``). Before anything is encoded, :func:`check_addressee` refuses, as a field error
naming the addressee's field:

- an addressee that has no inbox for the event (``unknown_addressee``): an agency that does not
  exist, or one that does not take such events;
- a topic named by the caller that is another agency's inbox (``addressee_topic``): a referral
  with the person's name and ID number must never land in the inbox of an agency it is not
  addressed to.
"""

from __future__ import annotations

from pydantic import BaseModel

from exchange.client.exceptions import AddresseeError
from exchange.models.exceptions import FieldError
from exchange.models.registry import spec_for_model
from exchange.topology.model import Topology

__all__ = ["ADDRESSEE_FIELDS", "addressees", "check_addressee"]

#: Per event type (Avro full name): the field(s) naming the agency (or agencies) it is for.
ADDRESSEE_FIELDS: dict[str, tuple[str, ...]] = {
    "exchange.events.Referral": ("toAgency",),
    "exchange.events.SightingDispatch": ("target",),
    "exchange.events.TipDispatch": ("target",),
    "exchange.events.CandidateMatch": ("owner",),
    "exchange.events.ComplianceAlert": ("addressedTo",),
    "exchange.events.UnknownOriginDispatch": ("target",),
    "exchange.events.KinshipVerification": ("caseOwner", "matchedCaseOwner"),
}


def _addressed(event: BaseModel) -> list[tuple[str, str]] | None:
    """Each addressee as (its field's path, agency id); None for an event without one."""
    fields = ADDRESSEE_FIELDS.get(spec_for_model(type(event)).fullname)
    if fields is None:
        return None
    found = []
    for field in fields:
        value = getattr(event, field)
        if isinstance(value, tuple):
            found += [(f"{field}.{i}.agencyId", str(ref.agencyId)) for i, ref in enumerate(value)]
        else:
            found.append((f"{field}.agencyId", str(value.agencyId)))
    return found


def addressees(event: BaseModel) -> tuple[str, tuple[str, ...]] | None:
    """The addressee field's name (the first, if several) and the agency ids the event is for;
    None for an event without one."""
    found = _addressed(event)
    if found is None:
        return None
    fields = ADDRESSEE_FIELDS[spec_for_model(type(event)).fullname]
    return fields[0], tuple(dict.fromkeys(agency for _, agency in found))


def check_addressee(topology: Topology, event: BaseModel, topic: str | None = None) -> None:
    """Raise :class:`AddresseeError` unless every addressee of ``event`` has an inbox for it
    and ``topic`` (when given) is one of those inboxes (see the module docs)."""
    found = _addressed(event)
    if found is None:
        return
    agencies = tuple(dict.fromkeys(agency for _, agency in found))
    fullname = spec_for_model(type(event)).fullname
    inboxes = {
        t.addressed_to: t.name for t in topology.topics_for_event(fullname) if t.addressed_to
    }
    errors = []
    for where, agency in found:
        if agency not in inboxes:
            errors.append(FieldError(where, "unknown_addressee", (
                f"no agency {agency!r} takes {fullname.rpartition('.')[2]} events; "
                f"known addressees: {', '.join(sorted(inboxes))}"
            )))
    if not errors and topic is not None:
        addressed_to = next(
            (t.addressed_to for t in topology.topics if t.name == topic), None
        )
        if addressed_to is not None and addressed_to not in agencies:
            first = found[0][0]
            where = first.partition(".")[0] if first.count(".") > 1 else first
            errors.append(FieldError(where, "addressee_topic", (
                f"topic {topic!r} is the inbox of {addressed_to!r} but the event is addressed "
                f"to {', '.join(map(repr, agencies))}; leave the topic out (it follows the "
                "addressee)"
            )))
    if errors:
        raise AddresseeError(errors, model=type(event).__name__)
