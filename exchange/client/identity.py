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

__all__ = ["ON_BEHALF", "SENDER_FIELDS", "check_sender", "check_source"]

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


def check_source(agency: str, source: str, agencies: Collection[str]) -> None:
    """Raise :class:`SenderError` when ``source`` (``ce_source``) names another of
    ``agencies`` (the topology's)."""
    parts = source.split("/")
    if agency in ON_BEHALF or len(parts) < 3 or parts[:2] != ["", "agencies"]:
        return
    if parts[2] != agency and parts[2] in agencies:
        raise SenderError([FieldError("ce_source", "sender_identity", (
            f"{source!r} names agency {parts[2]!r} but the caller is {agency!r}"
        ))], model="CloudEvent")
