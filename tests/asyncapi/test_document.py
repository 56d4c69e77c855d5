"""The AsyncAPI document against the topology and the schemas (pure: no node, no broker)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from exchange.asyncapi import build_document
from exchange.asyncapi.consistency import disagreements
from exchange.asyncapi.document import BUS_LIMITS
from exchange.asyncapi.exceptions import AsyncApiError
from exchange.asyncapi.messages import AVRO_FORMAT
from exchange.models.limits import limits_sentence
from exchange.schemas.catalogue import Catalogue
from exchange.topology.acl import acls_for
from exchange.topology.loader import load_topology
from exchange.topology.model import Topology
from tests.models.test_limits import check_documented

BOOTSTRAP = "127.0.0.1:19092"


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology()


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


@pytest.fixture(scope="module")
def bus(topology: Topology, catalogue: Catalogue) -> dict[str, Any]:
    return build_document(topology, catalogue, BOOTSTRAP)


def test_the_bus_document_matches_topology_and_schemas(
    bus: dict[str, Any], topology: Topology, catalogue: Catalogue
) -> None:
    assert disagreements(bus, topology, catalogue) == []
    assert set(bus["channels"]) == {t.name for t in topology.topics}


def test_every_agency_document_matches_its_acls(topology: Topology, catalogue: Catalogue) -> None:
    for agency in topology.agencies:
        document = build_document(topology, catalogue, BOOTSTRAP, agency.id)
        assert disagreements(document, topology, catalogue, agency.id) == [], agency.id
        granted = {
            (acl.operation, acl.resource_name)
            for acl in acls_for(topology, agency.id)
            if acl.resource_type == "TOPIC" and acl.operation in ("READ", "WRITE")
            and acl.pattern_type == "LITERAL"  # PREFIXED: a system's own internal topics
        }
        described = {
            ("WRITE" if op["action"] == "send" else "READ", op["channel"]["$ref"].split("/")[-1])
            for op in document["operations"].values()
        }
        assert described == granted, agency.id


def test_an_agency_document_lists_only_what_it_may_do(
    topology: Topology, catalogue: Catalogue
) -> None:
    document = build_document(topology, catalogue, BOOTSTRAP, "transport")
    ops = document["operations"]
    assert "transport.send.exchange.sighting" in ops
    assert "transport.receive.exchange.missing-person" in ops
    assert "transport.receive.exchange.rescue" not in ops  # not addressed to transport
    assert "exchange.rescue" not in document["channels"]
    assert all(op_id.startswith("transport.") for op_id in ops)
    assert "Rescue" not in document["components"]["messages"]


def test_servers_are_tls_with_scram(bus: dict[str, Any]) -> None:
    (server,) = bus["servers"].values()
    assert server["host"] == BOOTSTRAP
    assert server["protocol"] == "kafka-secure"
    assert bus["components"]["securitySchemes"]["scramSha512"]["type"] == "scramSha512"


def test_messages_carry_the_published_avro_schema(
    bus: dict[str, Any], catalogue: Catalogue
) -> None:
    sighting = bus["components"]["messages"]["TransportSighting"]
    latest = catalogue.latest("exchange.events.TransportSighting")
    assert sighting["payload"] == {"schemaFormat": AVRO_FORMAT, "schema": latest.schema}
    headers = sighting["headers"]
    assert headers["properties"]["ce_type"]["const"] == "exchange.events.TransportSighting"
    assert {"ce_id", "ce_source", "ce_subject", "exchange.sig"} <= set(headers["required"])
    (example,) = sighting["examples"]
    assert example["headers"]["ce_subject"] == example["payload"]["sightingId"]
    assert isinstance(example["payload"]["observedAt"], int)  # timestamp-millis as Avro has it


def test_a_channel_binding_differs_from_the_topology(
    bus: dict[str, Any], topology: Topology, catalogue: Catalogue
) -> None:
    changed = copy.deepcopy(bus)
    changed["channels"]["exchange.sighting"]["bindings"]["kafka"]["partitions"] = 12
    assert disagreements(changed, topology, catalogue) == [
        "channel exchange.sighting: partitions is 12, topology says 3"
    ]


def test_a_document_from_another_topology_disagrees(
    bus: dict[str, Any], topology: Topology, catalogue: Catalogue
) -> None:
    """A reader added to the topology (so to the broker's ACLs) that the document lacks."""
    sighting = topology.topic("exchange.sighting")
    wider = sighting.model_copy(update={"readers": (*sighting.readers, "health")})
    topics = tuple(wider if t.name == sighting.name else t for t in topology.topics)
    changed = Topology(agencies=topology.agencies, topics=topics)
    assert disagreements(bus, changed, catalogue) == [
        "operation health.receive.exchange.sighting: the ACLs allow it, the document omits it"
    ]


def test_a_stale_schema_disagrees(
    bus: dict[str, Any], topology: Topology, catalogue: Catalogue
) -> None:
    changed = copy.deepcopy(bus)
    rescue = changed["components"]["messages"]["Rescue"]
    rescue["payload"]["schema"] = catalogue.versions("exchange.events.Rescue")[0].schema
    assert disagreements(changed, topology, catalogue) == [
        f"message Rescue: payload is not the published schema "
        f"{catalogue.latest('exchange.events.Rescue').label}"
    ]


def test_an_operation_the_broker_forbids_is_reported(
    bus: dict[str, Any], topology: Topology, catalogue: Catalogue
) -> None:
    changed = copy.deepcopy(bus)
    changed["operations"]["health.send.exchange.rescue"] = {
        "action": "send", "channel": {"$ref": "#/channels/exchange.rescue"},
    }
    assert disagreements(changed, topology, catalogue) == [
        "operation health.send.exchange.rescue: the broker's ACLs do not allow it"
    ]


def test_bootstrap_without_port_is_refused(topology: Topology, catalogue: Catalogue) -> None:
    with pytest.raises(AsyncApiError, match="needs a port"):
        build_document(topology, catalogue, "broker.example")


def test_the_documented_limits_are_the_enforced_ones(bus: dict[str, Any]) -> None:
    """``info.x-limits`` (and the description written from it) are probed against validation;
    each event's payload doc carries the same limits."""
    limits = bus["info"]["x-limits"]
    names = check_documented(limits)
    assert names == [limit["name"] for limit in limits]
    assert "text-length" in names
    assert limits_sentence(BUS_LIMITS) in bus["info"]["description"]
    for message in bus["components"]["messages"].values():
        if message["payload"].get("schemaFormat") == AVRO_FORMAT:
            assert message["payload"]["schema"]["doc"].endswith(limits_sentence())
