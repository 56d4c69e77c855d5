"""The repository's topology loads, and says what MISSION.md and REFERENCE.md say."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.topology import Topology, TopologyFileError, UnknownNameError, load_topology
from exchange.topology.loader import default_topology_dir

XIAN_DIVISIONS = {
    "610102", "610103", "610104", "610111", "610112", "610113", "610114",
    "610115", "610116", "610117", "610118", "610122", "610124",
}  # fmt: skip
EVENTS = "exchange.events."


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology()


def test_default_dir_is_the_repository_copy() -> None:
    assert (default_topology_dir() / "agencies.toml").is_file()


def test_every_member_unit_of_the_rules_is_an_agency(topology: Topology) -> None:
    expected = {
        "police", "railway-police", "aviation-police", "metro-police", "transport",
        "civil-affairs", "market-regulation", "health", "justice", "human-resources",
        "education", "womens-federation", "cyberspace", "joint-meeting-office", "operators",
        "workflows", "public-alerts", "disabled-persons-federation", "foreign-affairs", "reports",
    }  # fmt: skip
    assert {a.id for a in topology.agencies} == expected
    assert topology.agency("police").name_zh == "西安市公安局"
    assert topology.agency("railway-police").name_zh == "西安铁路公安局"
    assert topology.principal_of("railway-police") == "agency.railway-police"


def test_police_has_command_centre_and_one_unit_per_district(topology: Topology) -> None:
    units = topology.agency("police").units
    assert "police.command-centre" in {u.id for u in units}
    local = [u for u in units if u.kind in ("sub-bureau", "county-bureau")]
    assert {u.region for u in local} == XIAN_DIVISIONS
    assert len(local) == 13
    yanta = next(u for u in units if u.id == "police.yanta")
    assert (yanta.name_zh, yanta.region) == ("雁塔分局", "610113")
    assert next(u for u in units if u.id == "police.zhouzhi").name_zh == "周至县公安局"


# Topics that keep records refused by a consumer (any bytes), and the audit trail (JSON).
NOT_EVENT_TOPICS = ("exchange.deadletter.", "exchange.quarantine.")
AUDIT = "exchange.audit"
# Keys on the bus (signed JSON requests and certificates), one partition each.
KEY_TOPICS = ("exchange.key-request.", "exchange.keys")
NOTARY = "exchange.notary"


def test_every_topic_has_an_owner_a_reader_and_known_events(topology: Topology) -> None:
    for topic in topology.topics:
        assert topic.owner in topic.writers
        assert topic.readers
        assert all(e.startswith(EVENTS) for e in topic.event_types)
        keys = topic.name.startswith(KEY_TOPICS)
        carries_no_events = (
            topic.name.startswith(NOT_EVENT_TOPICS) or topic.name in (AUDIT, NOTARY) or keys
        )
        assert bool(topic.event_types) != carries_no_events
        assert topic.partitions == (1 if keys else 3)


def test_readers_are_exactly_the_addressees(topology: Topology) -> None:
    """Least privilege: each flow of MISSION.md reaches its addressees and nobody else."""
    police = {"police", "railway-police", "metro-police", "aviation-police"}
    assert set(topology.topic("exchange.missing-person").readers) == {
        "transport", "civil-affairs", "workflows", "reports"} | police - {"police"}  # fmt: skip
    assert set(topology.topic("exchange.public-alert").readers) == {"public-alerts"}
    assert set(topology.topic("exchange.alert.to.transport").readers) == {"transport"}
    assert set(topology.topic("exchange.rescue").readers) == {
        "civil-affairs", "health", "justice", "human-resources", "education",
        "womens-federation", "workflows", "reports"}  # fmt: skip
    assert set(topology.topic("exchange.sighting").readers) == {"police", "workflows", "reports"}
    assert set(topology.topic("exchange.intermediary-revocation").readers) == {
        "human-resources", "police", "cyberspace", "workflows", "reports"}  # fmt: skip
    for topic in topology.topics:
        if topic.addressed_to is None:
            continue
        if topic.name.startswith("exchange.key-request."):
            assert topic.readers == ("joint-meeting-office",)
            assert topic.writers == (topic.addressed_to,)
        elif topic.name.startswith(NOT_EVENT_TOPICS):
            assert topic.readers == ("operators",)
            assert topic.writers == (topic.addressed_to,)
        elif topic.name.startswith("exchange.compliance.to."):
            assert topic.readers == (topic.addressed_to, "reports"), topic.name
        elif topic.name.startswith(("exchange.match.to.", "exchange.dna-match.to.",
                                    "exchange.tip.to.")):  # matches and tips: cold-case leads
            assert topic.readers == (topic.addressed_to, "workflows"), topic.name
        else:
            assert topic.readers == (topic.addressed_to,), topic.name


def test_only_the_office_writes_the_keys_and_everyone_reads_them(topology: Topology) -> None:
    keys = topology.topic("exchange.keys")
    assert keys.writers == ("joint-meeting-office",)
    assert set(keys.readers) == {a.id for a in topology.agencies}
    assert keys.cleanup_policy == "compact"
    assert keys.retention_ms == -1


def test_inboxes_and_deadletters_exist_for_every_agency(topology: Topology) -> None:
    members = [a.id for a in topology.agencies if a.kind == "agency"]
    for agency_id in members:
        assert topology.inbox("referral", agency_id).readers == (agency_id,)
        assert set(topology.inbox("referral", agency_id).writers) == {*members, "workflows"}
        # the workflows, and the reports service (a yearly report not confirmed, Art. 12)
        assert topology.inbox("compliance", agency_id).writers == ("workflows", "reports")
        assert topology.deadletter_topic(agency_id).name == f"exchange.deadletter.{agency_id}"
    for agency_id in ("police", "railway-police", "metro-police", "aviation-police"):
        assert topology.inbox("sighting", agency_id).writers == ("workflows",)


def test_lookups(topology: Topology) -> None:
    rescue = [t.name for t in topology.topics_for_event(f"{EVENTS}Rescue")]
    assert rescue == ["exchange.rescue"]
    writable = {t.name for t in topology.topics_writable_by("market-regulation")}
    assert "exchange.intermediary-revocation" in writable
    assert "exchange.rescue" not in writable
    readable = {t.name for t in topology.topics_readable_by("health")}
    assert readable == {
        "exchange.rescue", "exchange.referral.to.health", "exchange.compliance.to.health",
        "exchange.keys",  # every agency learns every key from the bus
        "exchange.notary",  # anchors (no personal data): the fail-closed guard waits there
    }  # fmt: skip
    with pytest.raises(UnknownNameError, match="no agency 'nobody'"):
        topology.agency("nobody")


def test_compacted_topic_keeps_latest_forever(topology: Topology) -> None:
    configs = topology.topic("exchange.intermediary-revocation").kafka_configs(1)
    assert configs == {"cleanup.policy": "compact", "retention.ms": "-1",
                       "min.insync.replicas": "1"}  # fmt: skip


AGENCIES = """
[[agency]]
id = "a"
name_zh = "甲"
name_en = "A"
principal = "agency.a"

[[agency]]
id = "b"
name_zh = "乙"
name_en = "B"
principal = "agency.b"
"""


def _write(root: Path, topics: str, agencies: str = AGENCIES) -> Path:
    (root / "agencies.toml").write_text(agencies, encoding="utf-8")
    (root / "topics.toml").write_text(topics, encoding="utf-8")
    return root


def _topic(name: str = "t", readers: str = '["b"]', partitions: int = 3) -> str:
    return f"""
[[topic]]
name = "{name}"
purpose = "test"
owner = "a"
readers = {readers}
event_types = ["exchange.events.Rescue"]
partitions = {partitions}
replication_factor = 1
min_insync_replicas = 1
retention_ms = 1000
"""


def test_unknown_reader_names_file_topic_and_field(tmp_path: Path) -> None:
    _write(tmp_path, _topic(readers='["b", "nobody"]'))
    with pytest.raises(TopologyFileError) as caught:
        load_topology(tmp_path)
    assert caught.value.file == tmp_path / "topics.toml"
    assert caught.value.path == "topic[t].readers[1]"
    assert "unknown agency 'nobody'" in str(caught.value)


def test_duplicate_topic_and_agency(tmp_path: Path) -> None:
    _write(tmp_path, _topic() + _topic())
    with pytest.raises(TopologyFileError, match=r"topic\[t\].name: duplicate topic name"):
        load_topology(tmp_path)
    _write(tmp_path, _topic(), AGENCIES + AGENCIES)
    with pytest.raises(TopologyFileError, match=r"agencies\.toml: agency.*duplicate agency id"):
        load_topology(tmp_path)


def test_partition_count_must_be_positive(tmp_path: Path) -> None:
    _write(tmp_path, _topic(partitions=0))
    with pytest.raises(TopologyFileError) as caught:
        load_topology(tmp_path)
    assert caught.value.path == "topic[t].partitions"


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    _write(tmp_path, "[[topic]\n")
    with pytest.raises(TopologyFileError, match="not valid TOML"):
        load_topology(tmp_path)
    with pytest.raises(TopologyFileError, match="file not found"):
        load_topology(tmp_path / "missing")
