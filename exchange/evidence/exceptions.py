"""Errors of the evidence layer (checkpoints, time-stamps, the notary, disclosure bundles).

::

    ExchangeError                     (exchange.errors)
    └── EvidenceError
        ├── TimeStampError            the TSA did not answer, refused, or its token is wrong;
        │                             ``.stage``: url, http, reply, token, openssl
        ├── AuditUnavailableError     fail-closed: the agency may not publish now; ``.retry_after``
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


class BundleError(EvidenceError):
    def __init__(self, file: str, rule: str) -> None:
        self.file = file
        self.rule = rule
        super().__init__(f"bundle file {file}: {rule}")
