"""Prometheus metrics of the publisher and consumer, on an injected registry.

One :class:`BusMetrics` per registry (``BusMetrics.on(registry)`` returns the same instance on
every call), so several components can share a registry without "Duplicated timeseries" errors,
and tests can give each component a fresh ``CollectorRegistry``.
"""

from __future__ import annotations

import weakref
from typing import ClassVar, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

MetricT = TypeVar("MetricT", Counter, Gauge, Histogram)


class BusMetrics:
    _by_registry: ClassVar[weakref.WeakKeyDictionary[CollectorRegistry, BusMetrics]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._children: dict[tuple[int, tuple[str, ...]], object] = {}
        self.published = Counter(
            "exchange_events_published_total", "Events accepted by the broker.",
            ["topic", "type", "agency"], registry=registry,
        )
        self.publish_errors = Counter(
            "exchange_publish_errors_total", "Events the broker refused or that could not be sent.",
            ["topic", "type", "agency", "error"], registry=registry,
        )
        self.refused = Counter(
            "exchange_events_refused_total",
            "Events refused to their sender before sending (validation failed).",
            ["type", "agency"], registry=registry,
        )
        self.consumed = Counter(
            "exchange_events_consumed_total", "Events decoded and handled by a consumer.",
            ["topic", "type", "agency"], registry=registry,
        )
        self.dead_lettered = Counter(
            "exchange_events_dead_lettered_total",
            "Records a consumer could not decode or handle, kept in its dead-letter topic.",
            ["topic", "reason", "agency"], registry=registry,
        )
        self.quarantined = Counter(
            "exchange_events_quarantined_total",
            "Records refused by verification (unsigned, forged, tampered, replayed, revoked key) "
            "and kept in the quarantine topic, never acted on: alert on any increase.",
            ["topic", "reason", "agency"], registry=registry,
        )
        self.handle_seconds = Histogram(
            "exchange_handle_seconds", "Time a consumer's handler took per event.",
            ["topic", "agency"], registry=registry,
        )
        self.publish_seconds = Histogram(
            "exchange_publish_seconds", "Time from publish call to broker acknowledgement.",
            ["topic", "agency"], registry=registry,
        )
        self.lag = Gauge(
            "exchange_consumer_lag_records", "Records behind the partition's high watermark.",
            ["topic", "partition", "group"], registry=registry,
        )

    def child(self, metric: MetricT, *labels: str) -> MetricT:
        """``metric.labels(*labels)``, cached: the hot paths look children up per event, and
        prometheus-client's own lookup validates the labels every time."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found  # type: ignore[return-value]

    @classmethod
    def on(cls, registry: CollectorRegistry) -> BusMetrics:
        """The metrics registered on ``registry`` (registered on first call)."""
        metrics = cls._by_registry.get(registry)
        if metrics is None:
            metrics = cls._by_registry[registry] = cls(registry)
        return metrics

