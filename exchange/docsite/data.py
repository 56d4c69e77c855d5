"""What the site is built from: the topology, the schema catalogue and the entitlements, with
the look-ups the pages share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from exchange.asyncapi.operations import granted
from exchange.protection.entitlements import Entitlements, load_entitlements
from exchange.schemas.catalogue import Catalogue
from exchange.topology.loader import load_topology
from exchange.topology.model import Topic, Topology


@dataclass(frozen=True)
class Connectors:
    """What the connectors contribute, given by the caller (the library does not import the
    connectors package): the gateway's OpenAPI document, and each built-in connector kind's
    import target with its class (``config_model``) or the reason it cannot be loaded."""

    openapi: Mapping[str, Any] = field(default_factory=dict)
    kinds: Mapping[str, tuple[str, type | str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SiteData:
    topology: Topology
    catalogue: Catalogue
    entitlements: Entitlements
    bootstrap: str
    connectors: Connectors = field(default_factory=Connectors)

    @classmethod
    def load(cls, bootstrap: str, connectors: Connectors | None = None) -> SiteData:
        topology = load_topology()
        return cls(topology, Catalogue.load(), load_entitlements(topology=topology), bootstrap,
                   connectors or Connectors())

    def event_types(self) -> list[str]:
        """Published events that some topic carries, sorted."""
        carried = {e for t in self.topology.topics for e in t.event_types}
        return [e for e in self.catalogue.published_event_types if e in carried]

    def topics_of(self, event_type: str) -> tuple[Topic, ...]:
        return self.topology.topics_for_event(event_type)

    def publishers(self, event_type: str) -> list[str]:
        return sorted({w for t in self.topics_of(event_type) for w in t.writers})

    def receivers(self, event_type: str) -> list[str]:
        return sorted({r for t in self.topics_of(event_type) for r in t.readers})

    def sends(self, agency: str) -> list[Topic]:
        return [self.topology.topic(n) for a, n in granted(self.topology, agency) if a == "send"]

    def receives(self, agency: str) -> list[Topic]:
        return [self.topology.topic(n) for a, n in granted(self.topology, agency)
                if a == "receive"]


def event_page(event_type: str) -> str:
    """Path of an event's page from the site root."""
    return f"events/{event_type.rpartition('.')[2]}.html"


def agency_page(agency: str) -> str:
    return f"agencies/{agency}.html"
