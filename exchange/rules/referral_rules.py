"""Which agencies a rescued person is referred to, and why: rules kept as data.

``topology/referral_rules.toml`` lists the rules (see its header for the conditions). Pure code,
no Kafka: :func:`facts_of` derives the facts the rules look at from one rescued person (age at
the rescue, minor, foreign, returning home, school age, needs), :func:`plan_referrals` checks
every rule and returns, per person, the referrals to make and the decision of every rule,
applied or not, each with its reason.

Reasons name only the conditions (``aged 16+``, ``nationality VNM``, ``needs medicalCare``),
never a name, a document number, a birth date or a contact: they travel to the referral board.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from exchange.models.common import Gender
from exchange.models.referrals import (
    ReferralPurpose,
    Rescue,
    RescuedVictim,
    VictimNeeds,
    VictimSituation,
)
from exchange.rules.follow_up import FollowUpPlan
from exchange.rules.jurisdiction import Jurisdiction
from exchange.topology.exceptions import TopologyFileError
from exchange.topology.loader import default_topology_dir, load_topology
from exchange.topology.model import Topology
from exchange.topology.toml_file import only_tables, read_toml, validate_table

__all__ = [
    "RESIDENCE",
    "RULES_FILE",
    "Decision",
    "Facts",
    "PersonPlan",
    "PlannedReferral",
    "ReferralRule",
    "ReferralRules",
    "ReferralRulesFileError",
    "facts_of",
    "load_referral_rules",
    "plan_referrals",
]

RULES_FILE = "referral_rules.toml"
RESIDENCE = "@residence"
"""A rule's unit meaning: the police unit of the person's home district."""
ADULT_AGE = 18
SCHOOL_AGES = range(6, 16)  # nine years of compulsory education, from 6
CST = timezone(timedelta(hours=8))
NEED_FLAGS = tuple(VictimNeeds.model_fields)


class ReferralRulesFileError(TopologyFileError):
    """``referral_rules.toml`` cannot be read or names something that does not exist;
    ``path`` locates the entry, e.g. ``rule[legal-aid].when.needs``."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Conditions(_Frozen):
    """``[rule.when]``: every condition given must hold."""

    needs: tuple[str, ...] = ()
    min_age: int | None = Field(None, ge=0, le=150)
    max_age: int | None = Field(None, ge=0, le=150)
    minor: bool | None = None
    foreign: bool | None = None
    returning_home: bool | None = None
    school_age: bool | None = None
    gender: Gender | None = None
    situations: tuple[VictimSituation, ...] = ()

    @field_validator("needs")
    @classmethod
    def _known_needs(cls, needs: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [flag for flag in needs if flag not in NEED_FLAGS]
        if unknown:
            raise ValueError(f"unknown needs {unknown}; VictimNeeds has {', '.join(NEED_FLAGS)}")
        return needs


class ReferralRule(_Frozen):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    to: str
    unit: str | None = None
    purpose: ReferralPurpose
    due_hours: int = Field(gt=0)
    legal_basis: str | None = None
    when: Conditions = Conditions()


class _Defaults(_Frozen):
    legal_basis: str = Field(min_length=1)


@dataclass(frozen=True)
class ReferralRules:
    rules: tuple[ReferralRule, ...]
    default_legal_basis: str
    follow_up: FollowUpPlan

    def legal_basis(self, rule: ReferralRule) -> str:
        return rule.legal_basis or self.default_legal_basis


@dataclass(frozen=True)
class Facts:
    """What the rules look at, for one rescued person."""

    age: int | None
    age_source: str
    minor: bool
    foreign: bool
    nationality: str | None
    returning_home: bool
    can_return_home: bool
    wants_to_return_home: bool
    school_age: bool
    needs: frozenset[str]
    gender: Gender
    situation: VictimSituation
    home_region: str | None


@dataclass(frozen=True)
class Decision:
    """One rule checked for one person: whether it applies, and why (or why not)."""

    rule: str
    applies: bool
    reason: str


@dataclass(frozen=True)
class PlannedReferral:
    """A referral to make: one per agency, unit and purpose, with every rule that asked for it."""

    person_index: int
    rules: tuple[str, ...]
    agency: str
    unit: str | None
    purpose: ReferralPurpose
    legal_basis: str
    due: timedelta
    reason: str


@dataclass(frozen=True)
class PersonPlan:
    person_index: int
    referrals: tuple[PlannedReferral, ...]
    decisions: tuple[Decision, ...]


def age_at(victim: RescuedVictim, on: date) -> tuple[int | None, str]:
    """The person's age in whole years on ``on``, and where it came from."""
    person = victim.person
    if person.birthDate is not None:
        born = person.birthDate
        years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        return years, "birth date"
    if person.description.ageYears is not None:
        return person.description.ageYears, "stated age"
    if person.description.ageRange is not None:
        return person.description.ageRange.min, "low end of the estimated age range"
    return None, "unknown"


def facts_of(victim: RescuedVictim, rescued_on: date) -> Facts:
    person, needs = victim.person, victim.needs
    age, source = age_at(victim, rescued_on)
    minor = person.isMinor or (age is not None and age < ADULT_AGE)
    nationality = person.nationality
    return Facts(
        age=age, age_source=source, minor=minor,
        foreign=nationality is not None and nationality != "CHN", nationality=nationality,
        returning_home=needs.canReturnHome and needs.wantsToReturnHome,
        can_return_home=needs.canReturnHome, wants_to_return_home=needs.wantsToReturnHome,
        school_age=needs.schoolAge or (age is not None and age in SCHOOL_AGES),
        needs=frozenset(flag for flag in NEED_FLAGS if getattr(needs, flag)),
        gender=person.description.gender, situation=victim.situation,
        home_region=person.homeRegionCode,
    )  # fmt: skip


def _check(when: Conditions, facts: Facts) -> tuple[bool, list[str]]:
    """Whether every condition holds, and a phrase per condition checked (a failing one last)."""
    said: list[str] = []
    for holds, phrase in _conditions(when, facts):
        said.append(phrase)
        if not holds:
            return False, said
    return True, said


def _conditions(when: Conditions, facts: Facts) -> Iterator[tuple[bool, str]]:
    """Each condition of ``when`` in turn: whether it holds, and what the facts say."""
    for flag in when.needs:
        yield (True, f"needs {flag}") if flag in facts.needs else (False, f"no need {flag}")
    yield from _ages(when, facts)
    nationality = facts.nationality or "not recorded (taken as CHN)"
    flags: list[tuple[bool | None, bool, str, str]] = [
        (when.minor, facts.minor, "a minor", "an adult"),
        (when.foreign, facts.foreign, f"nationality {nationality}", f"nationality {nationality}"),
        (when.returning_home, facts.returning_home, "returning home (safe and wanted)",
         _not_home(facts)),
        (when.school_age, facts.school_age, "of school age", "not of school age"),
    ]  # fmt: skip
    for wanted, actual, yes, no in flags:
        if wanted is not None:
            yield actual == wanted, yes if actual else no
    if when.gender is not None:
        yield facts.gender is when.gender, f"gender {facts.gender}"
    if when.situations:
        listed = ", ".join(map(str, when.situations))
        yield (
            facts.situation in when.situations,
            f"situation {facts.situation}" + ("" if facts.situation in when.situations
                                              else f" not in {listed}"),
        )  # fmt: skip


def _ages(when: Conditions, facts: Facts) -> Iterator[tuple[bool, str]]:
    source = facts.age_source
    for bound, lowest in ((when.min_age, True), (when.max_age, False)):
        if bound is None:
            continue
        if facts.age is None:
            yield False, "age unknown"
        elif facts.age >= bound if lowest else facts.age <= bound:
            yield True, (f"aged {bound}+" if lowest else f"aged {bound} or under") + f" ({source})"
        else:
            yield False, (f"under {bound}" if lowest else f"over {bound}") + f" ({source})"


def _not_home(facts: Facts) -> str:
    if not facts.can_return_home and not facts.wants_to_return_home:
        return "not returning home (not safe, not wanted)"
    if not facts.can_return_home:
        return "not returning home (not safe)"
    return "not returning home (not wanted)"


def residence_unit(home_region: str | None, jurisdiction: Jurisdiction) -> tuple[str, str]:
    """The police unit keeping the follow-up file of a person from ``home_region``."""
    district = jurisdiction.district(home_region) if home_region else None
    if district is not None:
        return district.unit, f"home district {district.code} {district.name_en}"
    where = f"home region {home_region} outside Xi'an" if home_region else "home region unknown"
    return jurisdiction.city.unit, f"{where}: the command centre forwards it"


def plan_person(
    index: int, victim: RescuedVictim, rescued_on: date, rules: ReferralRules,
    jurisdiction: Jurisdiction,
) -> PersonPlan:
    facts = facts_of(victim, rescued_on)
    decisions: list[Decision] = []
    planned: dict[tuple[str, str | None, ReferralPurpose], PlannedReferral] = {}
    for rule in rules.rules:
        applies, said = _check(rule.when, facts)
        unit, where = rule.unit, ""
        if applies and unit == RESIDENCE:
            unit, where = residence_unit(facts.home_region, jurisdiction)
        target = unit or rule.to
        because = "; ".join(s for s in said if s) or "always"
        if where:
            because += f"; {where}"
        verdict = f" → {target} {rule.purpose.value}" if applies else ": not referred"
        reason = f"rule {rule.id}: {because}{verdict}"
        decisions.append(Decision(rule.id, applies, reason))
        if not applies:
            continue
        key = (rule.to, unit, rule.purpose)
        earlier = planned.get(key)
        if earlier is None:
            planned[key] = PlannedReferral(
                person_index=index, rules=(rule.id,), agency=rule.to, unit=unit,
                purpose=rule.purpose, legal_basis=rules.legal_basis(rule),
                due=timedelta(hours=rule.due_hours), reason=reason,
            )
        else:
            planned[key] = PlannedReferral(
                person_index=index, rules=(*earlier.rules, rule.id), agency=rule.to, unit=unit,
                purpose=rule.purpose, legal_basis=earlier.legal_basis,
                due=min(earlier.due, timedelta(hours=rule.due_hours)),
                reason=f"{earlier.reason} | {reason}",
            )
    return PersonPlan(index, tuple(planned.values()), tuple(decisions))


def plan_referrals(
    rescue: Rescue, rules: ReferralRules, jurisdiction: Jurisdiction
) -> tuple[PersonPlan, ...]:
    """The referral plan of every rescued person of ``rescue`` (see the module doc)."""
    rescued_on = rescue.rescuedAt.astimezone(CST).date()
    return tuple(
        plan_person(index, victim, rescued_on, rules, jurisdiction)
        for index, victim in enumerate(rescue.victims)
    )


def load_referral_rules(
    root: Path | None = None, topology: Topology | None = None
) -> ReferralRules:
    """Load ``referral_rules.toml`` from ``root`` (default: the topology folder) and check that
    every agency and unit it names exists in ``topology``."""
    root = default_topology_dir() if root is None else root
    file = root / RULES_FILE
    data = read_toml(file, ReferralRulesFileError)
    only_tables(file, data, ("defaults", "rule", "follow_up"), ReferralRulesFileError)
    defaults = validate_table(
        file, "defaults", _Defaults, data.get("defaults"), ReferralRulesFileError
    )
    raws = data.get("rule")
    if not isinstance(raws, list) or not raws:
        raise ReferralRulesFileError(file, "rule", "expected [[rule]] tables")
    rules = tuple(
        validate_table(file, f"rule[{raw.get('id', i)}]", ReferralRule, raw, ReferralRulesFileError)
        for i, raw in enumerate(raws)
    )
    topology = load_topology(root) if topology is None else topology
    units = {agency.id: {unit.id for unit in agency.units} for agency in topology.agencies}
    seen: set[str] = set()
    for rule in rules:
        where = f"rule[{rule.id}]"
        if rule.id in seen:
            raise ReferralRulesFileError(file, f"{where}.id", "rule id used twice")
        seen.add(rule.id)
        if rule.to not in units:
            raise ReferralRulesFileError(file, f"{where}.to", f"unknown agency {rule.to!r}")
        if rule.unit not in (None, RESIDENCE) and rule.unit not in units[rule.to]:
            raise ReferralRulesFileError(
                file, f"{where}.unit", f"unknown unit {rule.unit!r} of {rule.to!r}"
            )
        if rule.unit == RESIDENCE and rule.to != "police":
            raise ReferralRulesFileError(file, f"{where}.unit", f"{RESIDENCE} is a police unit")
    follow_up = validate_table(
        file, "follow_up", FollowUpPlan, data.get("follow_up"), ReferralRulesFileError
    )
    return ReferralRules(rules, defaults.legal_basis, follow_up)


