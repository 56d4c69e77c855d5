"""Prometheus metrics of connectors, on an injected registry (one instance per registry)."""

from __future__ import annotations

import weakref
from typing import ClassVar

from prometheus_client import CollectorRegistry, Counter, Histogram


class ConnectorMetrics:
    _by_registry: ClassVar[weakref.WeakKeyDictionary[CollectorRegistry, ConnectorMetrics]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, registry: CollectorRegistry) -> None:
        self.records = Counter(
            "exchange_connector_records_total",
            "Records a connector moved, by outcome: published, delivered, refused (bad input "
            "answered to its sender), dead_lettered, duplicate (idempotent repeat skipped).",
            ["connector", "outcome"],
            registry=registry,
        )
        self.retries = Counter(
            "exchange_connector_retries_total",
            "Attempts that failed and were retried.",
            ["connector"],
            registry=registry,
        )
        self.errors = Counter(
            "exchange_connector_errors_total",
            "Failed attempts, by error class.",
            ["connector", "error"],
            registry=registry,
        )
        self.seconds = Histogram(
            "exchange_connector_seconds",
            "Time to move one record (including retries).",
            ["connector"],
            registry=registry,
        )

    @classmethod
    def on(cls, registry: CollectorRegistry) -> ConnectorMetrics:
        metrics = cls._by_registry.get(registry)
        if metrics is None:
            metrics = cls._by_registry[registry] = cls(registry)
        return metrics
