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
        self.source = f"{context.source}/{source}"
        self.inboxes = streams.inboxes(INBOX_PREFIX)

    async def send(self, alert: ComplianceAlert) -> None:
        encoded = self.context.codec.encode(alert, source=self.source, id=alert.alertId)
        for agency in dict.fromkeys(ref.agencyId for ref in alert.addressedTo):
            inbox = self.inboxes.get(agency)
            if inbox is None:
                raise LookupError(f"no compliance inbox for {agency!r}")
            await self.streams.publish(
                inbox, key=encoded.key, value=encoded.value, headers=encoded.headers
            )
