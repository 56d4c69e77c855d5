"""Prometheus metrics of the evidence layer, on an injected registry (one instance per
registry, as :class:`~exchange.metrics.BusMetrics`).

- ``exchange_audit_unanchored_seconds{agency}``: age of the oldest checkpoint not yet in a
  time-stamped anchor (the publisher's guard), or of the oldest pending one (the notary,
  ``agency="notary"``); 0 when every checkpoint is anchored.
- ``exchange_audit_unwritten_seconds{agency}``: how long audit records have failed to be written.
- ``exchange_audit_fail_closed{agency}``: 1 while the fail-closed policy refuses new events.
- ``exchange_audit_refused_total{agency}``: events refused by the policy.
- ``exchange_notary_anchors_total``, ``exchange_notary_tsa_failures_total``,
  ``exchange_notary_pending_checkpoints``, ``exchange_notary_rejected_checkpoints_total``.
"""

from __future__ import annotations

import weakref
from typing import ClassVar

from prometheus_client import CollectorRegistry, Counter, Gauge


class EvidenceMetrics:
    _by_registry: ClassVar[weakref.WeakKeyDictionary[CollectorRegistry, EvidenceMetrics]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, registry: CollectorRegistry) -> None:
        self.unanchored = Gauge(
            "exchange_audit_unanchored_seconds",
            "Age of the oldest audit checkpoint not yet in a time-stamped anchor.",
            ["agency"], registry=registry,
        )
        self.unwritten = Gauge(
            "exchange_audit_unwritten_seconds",
            "How long audit records have failed to be written (0: they are written).",
            ["agency"], registry=registry,
        )
        self.fail_closed = Gauge(
            "exchange_audit_fail_closed",
            "1 while the fail-closed audit policy refuses the agency's new events.",
            ["agency"], registry=registry,
        )
        self.refused = Counter(
            "exchange_audit_refused_total",
            "Events refused by the fail-closed audit policy.", ["agency"], registry=registry,
        )
        self.anchors = Counter(
            "exchange_notary_anchors_total", "Anchors time-stamped and written.",
            registry=registry,
        )
        self.tsa_failures = Counter(
            "exchange_notary_tsa_failures_total",
            "Time-stamp requests that failed (TSA down, refused, or a bad token).",
            registry=registry,
        )
        self.pending = Gauge(
            "exchange_notary_pending_checkpoints", "Checkpoints waiting for an anchor.",
            registry=registry,
        )
        self.rejected = Counter(
            "exchange_notary_rejected_checkpoints_total",
            "Checkpoints the notary refused (bad form, unknown or revoked key, bad signature).",
            registry=registry,
        )

    @classmethod
    def on(cls, registry: CollectorRegistry) -> EvidenceMetrics:
        metrics = cls._by_registry.get(registry)
        if metrics is None:
            metrics = cls._by_registry[registry] = cls(registry)
        return metrics
