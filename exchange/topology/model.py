"""The desired topology: agencies (each a SCRAM principal) and the topics they exchange on.

Frozen pydantic models, built by :mod:`exchange.topology.loader` from ``topology/*.toml``.
A :class:`Topology` checks its own cross references (every writer and reader is a declared
agency, names are unique) so that the ACLs derived from it (:mod:`exchange.topology.acl`)
grant exactly what the files say: an agency writes the topics it owns and reads only what
is addressed to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exchange.topology.exceptions import UnknownNameError

AGENCY_ID = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
"""Kebab-case, no dots: the id followed by ``.`` is the agency's group and transactional-id
prefix, so no id may be a dotted extension of another."""
TOPIC_NAME = r"^[A-Za-z0-9._-]{1,249}$"
REGION_CODE = r"^\d{6}$"
EVENT_FULLNAME = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Unit(_Frozen):
    """An organisational unit of an agency (a sub-bureau, a station post, an operator)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$")
    name_zh: str
    name_en: str
    region: str | None = Field(None, pattern=REGION_CODE, description="GB/T 2260 code.")
    kind: str | None = Field(None, description="e.g. sub-bureau, county-bureau, station-post.")
    note: str | None = None


class Agency(_Frozen):
    """A member unit of the joint mechanism, or a system of the bus itself (``kind="system"``).

    Its consumer groups and transactional ids start with ``<id>.``.
    """

    id: str = Field(pattern=AGENCY_ID)
    name_zh: str
    name_en: str
    principal: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="SCRAM user name.")
    kind: Literal["agency", "system"] = "agency"
    internal_topics: bool = Field(
        False, description="May create its own topics prefixed `<id>.` (faust changelogs)."
    )
    observes_cluster: bool = Field(
        False, description="May describe the cluster, every topic (metadata, configs, offsets) "
        "and every consumer group, never read a record: the operators' lag monitor and doctor.",
    )
    units: tuple[Unit, ...] = ()
    note: str | None = None

    @property
    def prefix(self) -> str:
        """Prefix of the agency's consumer groups, transactional ids and internal topics."""
        return f"{self.id}."

    @model_validator(mode="after")
    def _units_belong(self) -> Agency:
        for unit in self.units:
            if not unit.id.startswith(self.prefix):
                raise ValueError(f"unit {unit.id!r} must start with {self.prefix!r}")
        return self


class Topic(_Frozen):
    """A topic, who writes it, who reads it, and how long it keeps what for."""

    name: str = Field(pattern=TOPIC_NAME)
    purpose: str
    owner: str
    writers: tuple[str, ...] = Field((), description="Besides the owner, who may write.")
    readers: tuple[str, ...] = Field(min_length=1)
    event_types: tuple[str, ...] = Field(
        (), description="Avro full names it carries; none for dead-letter topics."
    )
    partitions: int = Field(ge=1)
    replication_factor: int = Field(ge=1)
    min_insync_replicas: int = Field(ge=1)
    retention_ms: int = Field(ge=-1, description="-1 keeps records forever.")
    cleanup_policy: Literal["delete", "compact"] = "delete"
    addressed_to: str | None = Field(None, description="The agency an inbox topic is for.")

    @model_validator(mode="after")
    def _consistent(self) -> Topic:
        if self.owner not in self.writers:
            object.__setattr__(self, "writers", (self.owner, *self.writers))
        for event in self.event_types:
            if not re.match(EVENT_FULLNAME, event):
                raise ValueError(f"event type {event!r} is not an Avro full name")
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError(
                f"min_insync_replicas {self.min_insync_replicas} exceeds "
                f"replication_factor {self.replication_factor}"
            )
        return self

    def kafka_configs(self, replication_cap: int | None = None) -> dict[str, str]:
        """The topic-level configs the topology manages, as Kafka expects them."""
        rf = self.effective_replication(replication_cap)
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            "min.insync.replicas": str(min(self.min_insync_replicas, rf)),
        }

    def effective_replication(self, replication_cap: int | None = None) -> int:
        """Replication factor after the cap for small clusters (e.g. 1 for a single broker)."""
        if replication_cap is None:
            return self.replication_factor
        return min(self.replication_factor, replication_cap)


def find_problems(agencies: Iterable[Agency], topics: Iterable[Topic]) -> list[tuple[str, str]]:
    """Cross-reference problems as ``(path, problem)`` pairs; empty when consistent."""
    agencies, topics = list(agencies), list(topics)
    problems: list[tuple[str, str]] = []
    ids: set[str] = set()
    principals: set[str] = set()
    units: set[str] = set()
    for agency in agencies:
        if agency.id in ids:
            problems.append((f"agency[{agency.id}].id", "duplicate agency id"))
        if agency.principal in principals:
            problems.append((f"agency[{agency.id}].principal", "principal used twice"))
        ids.add(agency.id)
        principals.add(agency.principal)
        for unit in agency.units:
            if unit.id in units:
                problems.append((f"agency[{agency.id}].units[{unit.id}]", "duplicate unit id"))
            units.add(unit.id)
    names: set[str] = set()
    for topic in topics:
        where = f"topic[{topic.name}]"
        if topic.name in names:
            problems.append((f"{where}.name", "duplicate topic name"))
        names.add(topic.name)
        refs = {"owner": [topic.owner], "writers": topic.writers, "readers": topic.readers}
        if topic.addressed_to is not None:
            refs["addressed_to"] = [topic.addressed_to]
        for field, values in refs.items():
            for i, value in enumerate(values):
                if value not in ids:
                    index = "" if field in ("owner", "addressed_to") else f"[{i}]"
                    problems.append(
                        (
                            f"{where}.{field}{index}",
                            f"unknown agency {value!r}; declare it in agencies.toml or fix the id",
                        )
                    )
        if len(set(topic.readers)) != len(topic.readers):
            problems.append((f"{where}.readers", "an agency is listed twice"))
    return problems


class Topology(_Frozen):
    """Everything the cluster should hold, with the look-ups planners and workflows need."""

    agencies: tuple[Agency, ...]
    topics: tuple[Topic, ...]

    @model_validator(mode="after")
    def _references(self) -> Topology:
        problems = find_problems(self.agencies, self.topics)
        if problems:
            raise ValueError("; ".join(f"{path}: {problem}" for path, problem in problems))
        return self

    def agency(self, agency_id: str) -> Agency:
        for agency in self.agencies:
            if agency.id == agency_id:
                return agency
        raise UnknownNameError("agency", agency_id, [a.id for a in self.agencies])

    def topic(self, name: str) -> Topic:
        for topic in self.topics:
            if topic.name == name:
                return topic
        raise UnknownNameError("topic", name, [t.name for t in self.topics])

    def principal_of(self, agency_id: str) -> str:
        return self.agency(agency_id).principal

    @property
    def principals(self) -> tuple[str, ...]:
        return tuple(a.principal for a in self.agencies)

    def topics_readable_by(self, agency_id: str) -> tuple[Topic, ...]:
        self.agency(agency_id)
        return tuple(t for t in self.topics if agency_id in t.readers)

    def topics_writable_by(self, agency_id: str) -> tuple[Topic, ...]:
        self.agency(agency_id)
        return tuple(t for t in self.topics if agency_id in t.writers)

    def topics_for_event(self, fullname: str) -> tuple[Topic, ...]:
        return tuple(t for t in self.topics if fullname in t.event_types)

    def deadletter_topic(self, agency_id: str) -> Topic:
        """The topic where ``agency_id``'s consumers put records they cannot process."""
        return self.topic(deadletter_name(self.agency(agency_id).id))

    def inbox(self, event: str, agency_id: str) -> Topic:
        """The topic addressed to one agency for one kind of event, e.g. ``referral``."""
        return self.topic(f"exchange.{event}.to.{agency_id}")


def deadletter_name(agency_id: str) -> str:
    return f"exchange.deadletter.{agency_id}"
