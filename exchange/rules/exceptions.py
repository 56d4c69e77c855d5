"""Errors of the domain rules (their branch of :mod:`exchange.errors`)::

ExchangeError
└── RuleError
    └── ReferralStepError (also ValueError)   a referral update the lifecycle does not allow

A workflow handler that raises one has its event dead-lettered with the message (naming the
field and the rule) in the headers; the stream goes on.
"""

from __future__ import annotations

from exchange.errors import ExchangeError


class RuleError(ExchangeError):
    """Root of the rules' own errors."""


class ReferralStepError(RuleError, ValueError):
    """A ``ReferralUpdate`` the referral's lifecycle refuses; ``field`` and ``rule`` say which
    part and which rule, ``referral_id`` which referral."""

    def __init__(self, referral_id: str, field: str, rule: str, problem: str) -> None:
        self.referral_id = referral_id
        self.field = field
        self.rule = rule
        self.problem = problem
        super().__init__(
            f"referral {referral_id}: {field}: {problem} [{rule}]; the update was not applied, "
            "send a corrected one"
        )
