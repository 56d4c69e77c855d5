"""Metrics of the revocation, infant-custody and tip workflows, on the worker's registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["FlowMetrics"]


class FlowMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.compliance_alerts = Counter(
            "exchange_compliance_alerts_total",
            "Compliance alerts raised by the workflows, by kind.",
            ["kind"], registry=registry,
        )
        self.revoked = Counter(
            "exchange_intermediary_decisions_total",
            "Intermediary revocations, bans and reinstatements applied to the revoked table.",
            ["action"], registry=registry,
        )
        self.tips_routed = Counter(
            "exchange_tips_routed_total",
            "Public tips dispatched to a police unit, by agency, channel and routing rule.",
            ["agency", "channel", "rule"], registry=registry,
        )
        self.rewards = Counter(
            "exchange_tip_rewards_eligible_total",
            "Tips that led to a result and became eligible for a reward, by channel.",
            ["channel"], registry=registry,
        )
