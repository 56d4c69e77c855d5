"""Read the year's events from the bus as the ``reports`` principal and build the report."""

from __future__ import annotations

from datetime import datetime

from exchange.client.snapshot import read_snapshot
from exchange.codec import DecodedEvent, EventCodec
from exchange.models.common import Location
from exchange.protection.protected import ProtectedCodec
from exchange.protection.unprotected import Unprotected
from exchange.reports.figures import Places, YearReport, build_report
from exchange.rules.geo import Point
from exchange.rules.jurisdiction import Jurisdiction
from exchange.settings import KafkaSettings
from exchange.topology.model import Topology

__all__ = ["AGENCY", "collect_report", "places_of", "report_topics"]

AGENCY = "reports"


def report_topics(topology: Topology) -> list[str]:
    """Every topic of events the reports principal reads (not exchange.keys: certificates)."""
    return [t.name for t in topology.topics if AGENCY in t.readers and t.event_types]


def places_of(jurisdiction: Jurisdiction) -> Places:
    def district_at(location: Location) -> str | None:
        district = jurisdiction.district(location.regionCode) if location.regionCode else None
        if district is None:
            district = jurisdiction.district_at(Point(location.lat, location.lon))
        return district.code if district is not None else None

    return Places(
        districts={d.code: f"{d.name_zh} {d.name_en}" for d in jurisdiction.districts},
        district_of_unit={d.unit: d.code for d in jurisdiction.districts},
        district_at=district_at,
    )


async def collect_report(
    settings: KafkaSettings, codec: EventCodec, topology: Topology, jurisdiction: Jurisdiction,
    *, protection: ProtectedCodec | Unprotected, year: int, now: datetime,
    start: datetime | None = None, end: datetime | None = None, timeout_s: float = 60.0,
) -> tuple[YearReport, int]:
    """The report, and how many records were skipped: undecodable, or refused by verification
    (unsigned, forged, ...: a report counts only events whose signature holds)."""
    events: list[DecodedEvent] = []
    undecodable = 0
    for topic in report_topics(topology):
        snapshot = await read_snapshot(
            settings, codec, topic, partitions=topology.topic(topic).partitions, agency=AGENCY,
            protection=protection, timeout_s=timeout_s,
        )
        events += snapshot.events
        undecodable += snapshot.undecodable + sum(snapshot.refused.values())
    members = [
        a.id for a in topology.agencies if a.kind == "agency" and a.id != "joint-meeting-office"
    ]
    report = build_report(
        year, events, members=members, places=places_of(jurisdiction), now=now, start=start,
        end=end,
    )
    return report, undecodable
