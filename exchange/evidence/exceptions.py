"""Errors of the evidence layer (checkpoints, time-stamps, the notary, disclosure bundles).

::

    ExchangeError                     (exchange.errors)
    └── EvidenceError
        ├── TimeStampError            the TSA did not answer, refused, or its token is wrong;
        │                             ``.stage``: url, http, reply, token, openssl
        ├── AuditUnavailableError     fail-closed: the agency may not publish now; ``.retry_after``
        ├── AuditWriteError           an event was published but its audit record not written
        └── BundleError               a disclosure bundle does not verify; ``.file``, ``.rule``
"""

from __future__ import annotations

from exchange.errors import ExchangeError


class EvidenceError(ExchangeError):
    """Root of the evidence layer's errors."""


class TimeStampError(EvidenceError):
    def __init__(self, stage: str, problem: str) -> None:
        self.stage = stage
        self.problem = problem
        super().__init__(f"time-stamp ({stage}): {problem}")


class AuditUnavailableError(EvidenceError):
    """The fail-closed policy refuses new events: audit records could not be written or
    time-stamped for longer than allowed. Fix the audit path (broker ACL, TSA, notary) first."""

    def __init__(self, agency: str, problem: str, retry_after: float) -> None:
        self.agency = agency
        self.problem = problem
        self.retry_after = retry_after
        super().__init__(
            f"{agency} does not accept new events (fail-closed audit policy): {problem}; "
            f"retry in {retry_after:.0f} s once the audit path works again"
        )


class AuditWriteError(EvidenceError):
    """An event the broker acknowledged whose ``published`` audit record could not be written.

    The event is on the bus (a retry publishes it again under the same ``ce_id``, which readers
    drop as a duplicate, and records it then); the fail-closed guard counts the failure."""

    def __init__(self, agency: str, event_id: str, topic: str, error: BaseException) -> None:
        self.agency = agency
        self.event_id = event_id
        self.topic = topic
        self.error = error
        super().__init__(
            f"event {event_id} was published to {topic} but {agency}'s audit record of it was "
            f"not written ({type(error).__name__}: {error}); fix the audit path and send it "
            "again with the same id"
        )


class BundleError(EvidenceError):
    def __init__(self, file: str, rule: str) -> None:
        self.file = file
        self.rule = rule
        super().__init__(f"bundle file {file}: {rule}")
