"""Sealing and opening every event of every topic, as every agency of the topology."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from exchange.examples import example
from exchange.models.registry import EVENTS, spec_for
from exchange.protection.entitlements import Entitlements
from exchange.protection.fields import put
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import PROTECTED, ProtectedCodec
from exchange.protection.sealed import VERSION_2, read
from exchange.topology.model import Topology

Factory = Callable[[str], ProtectedCodec]


def topics_with_events(topology: Topology) -> list[tuple[str, str]]:
    out = []
    for topic in topology.topics:
        for fullname in topic.event_types:
            out.append((topic.name, spec_for(fullname).name))
    return out


def at(data: Any, path: str) -> Any:
    for step in path.split("."):
        data = data[int(step)] if isinstance(data, list) else data[step]
    return data


@pytest.mark.parametrize("event_name", sorted(EVENTS))
def test_every_agency_sees_what_it_is_entitled_to_and_no_more(
    event_name: str, topology: Topology, entitlements: Entitlements, protected_as: Factory
) -> None:
    topics = [t for t in topology.topics if spec_for(event_name).fullname in t.event_types]
    assert topics, event_name
    topic = topics[0]
    plain = writer_codec(protected_as).codec
    sent = plain.encode(example(event_name), source="/x")
    event = plain.decode(sent.value, sent.headers).event  # what Avro keeps (times in UTC)
    original = event.model_dump(mode="json")
    writer = protected_as(topic.owner)
    encoded = writer.encode(event, source=f"/agencies/{topic.owner}/test", readers=topic.readers)
    for number, agency in enumerate(a.id for a in topology.agencies):
        opened = protected_as(agency).decode(
            encoded.key, encoded.value, encoded.headers, (topic.name, 0, number)
        )
        view = opened.view()
        for path in opened.protected:
            assert view_at(view, path) == PROTECTED, (agency, path)
        for path in opened.opened.paths:
            assert at(view, path) == at(original, path), (agency, path)
        reads_all = agency in topic.readers and all(
            entitlements.may_read(agency, tags)
            for tags, _ in writer.plan(
                writer.codec.catalogue.latest(spec_for(event_name).fullname)
            ).groups
        )
        if reads_all:
            assert opened.decoded.event == event, agency
            assert not opened.protected
        if agency not in topic.readers:
            assert not opened.opened.paths, f"{agency} does not read {topic.name}"
        expected = json.loads(json.dumps(original))
        for path in opened.protected:
            put(expected, path, PROTECTED)
        assert view == expected, agency


def writer_codec(protected_as: Factory) -> ProtectedCodec:
    return protected_as("police")


def view_at(view: dict[str, Any], path: str) -> Any:
    return at(view, path)


def test_sealed_values_are_not_in_the_record(protected_as: Factory, topology: Topology) -> None:
    event = example("missing-person-report")
    original = event.model_dump(mode="json")
    topic = topology.topic("exchange.missing-person")
    encoded = protected_as("police").encode(
        event, source="/agencies/police/test", readers=topic.readers
    )
    wire = encoded.value + b"".join(v for _, v in encoded.headers) + encoded.key
    name = original["missingPerson"]["name"]
    number = original["missingPerson"]["documents"][0]["number"]
    assert name.encode() not in wire
    assert number.encode() not in wire
    assert (
        name.encode()
        in protected_as("transport")
        .decode(encoded.key, encoded.value, encoded.headers, (topic.name, 0, 0))
        .decoded.event.model_dump_json()
        .encode()
    )


def test_old_and_new_events_open_after_rotation(
    protected_as: Factory, keys: FileKeyStore, topology: Topology
) -> None:
    topic = topology.topic("exchange.rescue")
    event = example("rescue")
    before = protected_as("police").encode(
        event, source="/agencies/police/test", readers=topic.readers
    )
    keys.rotate("health", "enc")
    keys.rotate("police", "enc")
    keys.rotate("police", "sig")
    after = protected_as("police").encode(
        event, source="/agencies/police/test", readers=topic.readers
    )
    assert b"health.enc.2" in dict(after.headers)["exchange.sealed"]
    assert b"health.enc.1" in dict(before.headers)["exchange.sealed"]
    reader = protected_as("health")
    for offset, encoded in enumerate((before, after)):
        opened = reader.decode(encoded.key, encoded.value, encoded.headers, (topic.name, 0, offset))
        assert "victims.0.situationDetails" in opened.opened.paths
        assert opened.decoded.event.victims[0].situationDetails == event.victims[0].situationDetails


def test_tag_groups_opened_by_the_same_agencies_share_one_cipher(
    protected_as: Factory, entitlements: Entitlements, topology: Topology
) -> None:
    """A rescue's tag groups, merged where exactly the same readers may open them: one group
    per distinct set of recipients, each recipient entitled to all of its group's tags."""
    topic = topology.topic("exchange.rescue")
    writer = protected_as("police")
    event = example("rescue")
    encoded = writer.encode(event, source="/agencies/police/test", readers=topic.readers)
    groups = read(dict(encoded.headers)["exchange.sealed"]).groups
    plan = writer.plan(writer.codec.catalogue.latest(spec_for("rescue").fullname))
    assert len(groups) < len(plan.groups)  # 7 tag sets in the example, fewer ciphers
    recipients = [tuple(entitlements.recipients(topic.readers, frozenset(g.tags))) for g in groups]
    assert len(set(recipients)) == len(groups)  # no two groups for the same readers
    for group in groups:
        for agency in entitlements.recipients(topic.readers, frozenset(group.tags)):
            assert entitlements.may_read(agency, frozenset(group.tags))


def test_the_sealed_header_is_version_2_and_chinese_text_round_trips(
    protected_as: Factory, topology: Topology
) -> None:
    """Strings are sealed as their UTF-8 bytes (quotes and backslashes as they are)."""
    topic = topology.topic("exchange.rescue")
    data = example("rescue").model_dump(mode="json")
    data["victims"][0]["person"]["name"] = '张小红 "引号" \\ 反斜杠'
    event = spec_for("rescue").model.model_validate(data)
    encoded = protected_as("police").encode(
        event, source="/agencies/police/test", readers=topic.readers
    )
    header = dict(encoded.headers)["exchange.sealed"]
    assert header[0] == VERSION_2
    assert "张小红".encode() not in header  # sealed
    reader = protected_as("health")
    opened = reader.decode(encoded.key, encoded.value, encoded.headers, (topic.name, 0, 1))
    assert opened.decoded.event.victims[0].person.name == data["victims"][0]["person"]["name"]
