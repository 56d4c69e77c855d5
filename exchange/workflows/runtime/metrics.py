"""The worker's metrics, on an injected registry: one :class:`WorkflowMetrics` per worker."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from exchange.metrics import BusMetrics

__all__ = ["WorkflowMetrics"]


class WorkflowMetrics:
    """Every workflow's metrics, on the injected registry (next to the bus's own): the one
    home of the worker's metrics."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.bus = BusMetrics.on(registry)
        self.duplicates = Counter(
            "exchange_workflow_duplicates_total",
            "Events skipped because the same ce_source + ce_id was handled before.",
            ["topic"], registry=registry,
        )
        self.rewinds = Counter(
            "exchange_workflow_rewinds_total",
            "Source partitions sought back because records were read but never handled "
            "(a faust defect after restarts; see exchange/workflows/runtime/faust_patches.py).",
            ["topic"], registry=registry,
        )
        self.sightings_routed = Counter(
            "exchange_sightings_routed_total",
            "Sightings dispatched to a police unit, by unit, dispatch kind and routing rule.",
            ["agency", "unit", "kind", "rule"], registry=registry,
        )
        self.sightings_flagged = Counter(
            "exchange_sightings_flagged_total",
            "Sightings whose routing needs a person to look (e.g. outside Xi'an).",
            ["rule"], registry=registry,
        )
        self.dispatch_seconds = Histogram(
            "exchange_sighting_dispatch_seconds",
            "Time from a sighting's publication (its ce_time) to its dispatch leaving the worker.",
            ["kind"], registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
        )
        self.acknowledged = Counter(
            "exchange_dispatch_acknowledgements_total",
            "Dispatches acknowledged by the police unit, on time or late.",
            ["agency", "unit", "timeliness"], registry=registry,
        )
        self.ack_seconds = Histogram(
            "exchange_dispatch_ack_seconds",
            "Time from dispatching a sighting to the unit's acknowledgement.",
            ["kind"], registry=registry,
            buckets=(5, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200),
        )
        self.alerts = Counter(
            "exchange_alerts_issued_total",
            "Emergency alert messages sent, by CAP msgType and radius step (km).",
            ["msg_type", "radius_km"], registry=registry,
        )
        self.matches = Counter(
            "exchange_candidate_matches_total",
            "Candidate matches between a sighting and an open missing-person case, by owner.",
            ["agency"], registry=registry,
        )
        self.lookbacks = Counter(
            "exchange_case_lookbacks_total",
            "New cases compared with the sightings published since the person was last seen, "
            "by outcome: done, or failed (the earlier sightings were not compared; logged).",
            ["outcome"], registry=registry,
        )
        self.escalations = Counter(
            "exchange_dispatch_escalations_total",
            "Dispatches not acknowledged in time, escalated to the city command centre.",
            ["agency", "unit"], registry=registry,
        )
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
        self.referrals_issued = Counter(
            "exchange_referrals_issued_total",
            "Referrals issued (from a rescue or a transfer), by agency and purpose.",
            ["agency", "purpose"], registry=registry,
        )
        self.referral_steps = Counter(
            "exchange_referral_steps_total",
            "Referral steps applied, by agency and new status.",
            ["agency", "status"], registry=registry,
        )
        self.referrals_open = Gauge(
            "exchange_referrals_open",
            "Referrals not yet completed, declined or transferred, by receiving agency (this "
            "worker's partitions; sum over workers).",
            ["agency"], registry=registry,
        )
        self.referral_seconds = Histogram(
            "exchange_referral_handle_seconds",
            "Time from a referral's issue to each step the receiving agency reports "
            "(ACCEPTED: time to take it on; COMPLETED: time to finish it).",
            ["agency", "status"], registry=registry,
            buckets=(3600, 4 * 3600, 12 * 3600, 86400, 2 * 86400, 3 * 86400, 7 * 86400,
                     14 * 86400, 30 * 86400, 90 * 86400),
        )
        self.referrals_overdue = Counter(
            "exchange_referrals_overdue_total",
            "Referrals still open after their due time, escalated to the joint-meeting office.",
            ["agency", "purpose"], registry=registry,
        )
        self.visits = Counter(
            "exchange_follow_up_visits_total",
            "Follow-up visits recorded by the residence police station.",
            ["agency"], registry=registry,
        )
        self.visits_missed = Counter(
            "exchange_follow_up_visits_missed_total",
            "Follow-up visits not recorded in time, escalated to the joint-meeting office.",
            ["agency"], registry=registry,
        )
