"""Sending compliance alerts: one ``ComplianceAlert`` to the inbox of each agency it names
(``exchange.compliance.to.<agency>``), with a CloudEvents id derived from what raised it."""

from __future__ import annotations

import hashlib

from exchange.models.compliance import ComplianceAlert
from exchange.workflows.runtime import Streams, WorkflowContext

__all__ = ["ComplianceSender", "short_id"]

INBOX_PREFIX = "exchange.compliance.to."


def short_id(text: str, limit: int = 64) -> str:
    """``text`` as an identifier of at most ``limit`` characters (a digest when longer)."""
    if len(text) <= limit:
        return text
    return f"CA-{hashlib.sha256(text.encode()).hexdigest()[:32]}"


class ComplianceSender:
    def __init__(self, streams: Streams, context: WorkflowContext, source: str) -> None:
        self.context = context
        self.streams = streams
        self.source = source
        self.inboxes = streams.inboxes(INBOX_PREFIX)

    async def send(self, alert: ComplianceAlert) -> None:
        """Emit ``alert`` to the compliance inbox of every agency it is addressed to."""
        agencies = dict.fromkeys(ref.agencyId for ref in alert.addressedTo)
        missing = [agency for agency in agencies if agency not in self.inboxes]
        if missing:
            raise LookupError(f"no compliance inbox for {', '.join(map(repr, missing))}")
        inboxes = [self.inboxes[agency] for agency in agencies]
        await self.streams.emit(  # confirmed: the callers record the alert as sent next
            alert, *inboxes, id=alert.alertId, source=self.source, confirmed=True
        )
