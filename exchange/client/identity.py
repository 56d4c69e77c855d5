"""The caller's principal is the only source of identity.

An event that names its sender (a sighting's ``reporter``, a referral's ``fromAgency``, a
report's ``reportingUnit``, ...) must name the agency that publishes it, and a ``ce_source`` of
the form ``/agencies/<id>/...`` must name that agency too: a caller cannot speak for another
agency by writing its name in the body or the source. The ``workflows`` agency is the one
exception: it issues referrals and dispatches on behalf of the agencies the rules name.
"""

from __future__ import annotations

from collections.abc import Collection

from pydantic import BaseModel

from exchange.client.exceptions import SenderError
from exchange.models.exceptions import FieldError
from exchange.models.registry import spec_for_model

__all__ = ["ON_BEHALF", "SENDER_FIELDS", "check_sender", "check_source", "source_problem"]

#: Agencies that publish on behalf of others (derived events).
ON_BEHALF = frozenset({"workflows"})

#: Per event type (Avro full name): the field naming the agency that sends it.
SENDER_FIELDS = {
    "exchange.events.TransportSighting": "reporter",
    "exchange.events.Referral": "fromAgency",
    "exchange.events.MissingPersonReport": "reportingUnit",
    "exchange.events.Rescue": "rescuingUnit",
    "exchange.events.ReferralUpdate": "by",
    "exchange.events.DispatchAcknowledgement": "unit",
    "exchange.events.InfantCustodyEvent": "unit",
    "exchange.events.IntermediaryRevocation": "issuingUnit",
    "exchange.events.JobPlacement": "recordingUnit",
    "exchange.events.TipOutcome": "unit",
    "exchange.events.PublicTip": "receivedBy",
    "exchange.events.FollowUpVisit": "unit",
    "exchange.events.ReportConfirmation": "agency",
}


def check_sender(agency: str, event: BaseModel) -> None:
    """Raise :class:`SenderError` when ``event`` names a sender other than ``agency``."""
    if agency in ON_BEHALF:
        return
    field = SENDER_FIELDS.get(spec_for_model(type(event)).fullname)
    if field is None:
        return
    named = getattr(event, field).agencyId
    if named != agency:
        raise SenderError([FieldError(f"{field}.agencyId", "sender_identity", (
            f"names {named!r} but the caller is {agency!r}: an agency publishes only in its "
            "own name"
        ))], model=type(event).__name__)


def source_problem(agency: str, source: str, agencies: Collection[str] = ()) -> str | None:
    """Why ``source`` (``ce_source``) may not be ``agency``'s, or None: it must be
    ``/agencies/<agency>`` or start with ``/agencies/<agency>/``, because readers check the
    signature against the agency the source names. ``agencies`` (the topology's) words it."""
    parts = source.split("/")
    named = parts[2] if len(parts) >= 3 and parts[:2] == ["", "agencies"] else None
    if named == agency:
        return None
    if named is not None and named in agencies:
        return f"{source!r} names agency {named!r} but the caller is {agency!r}"
    return (
        f"{source!r} must start with /agencies/{agency}/ (readers check the signature against "
        "the agency the source names)"
    )


def check_source(agency: str, source: str, agencies: Collection[str]) -> None:
    """Raise :class:`SenderError` when ``source`` (``ce_source``) is not ``agency``'s
    (:func:`source_problem`): a source naming no agency, or another, would have every event
    quarantined by its readers."""
    problem = source_problem(agency, source, agencies)
    if problem is not None:
        raise SenderError([FieldError("ce_source", "sender_identity", problem)],
                          model="CloudEvent")
