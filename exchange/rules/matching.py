"""Score a transport sighting against the open missing-person cases.

Pure logic, no Kafka: the matching workflow keeps the open ``MissingPersonReport``s in a table
keyed by case id and calls :func:`match_sighting` for each new ``TransportSighting``; each
candidate it returns goes to the police unit that owns the case.

Every suspected person of a sighting is compared with every open case on six factors. Three
kinds of hard evidence rule a pair out: a gender mismatch; ages that do not overlap even with a
tolerance; a sighting the person cannot have reached (before the last-seen time, or farther from
the last-seen place than the fastest plausible mode could travel since). The factors that remain
score 0..1 and are combined with :data:`WEIGHTS`:

========  ======  =========================================================================
factor    weight  score
========  ======  =========================================================================
gender    0.15    1 when both sides agree; neutral when either is UNKNOWN
age       0.25    1 when the ranges overlap; down to 0.5 at the edge of the tolerance
clothing  0.15    shared words / all distinct words (Jaccard); clothes are easily changed
marks     0.25    the same on distinguishing marks, which are not
distance  0.10    1 - distance / reach, where reach = max speed x elapsed time + slack
time      0.10    halves every :data:`TIME_HALF_LIFE_HOURS` after the last-seen time
========  ======  =========================================================================

A factor with nothing to compare scores :data:`NEUTRAL_SCORE`, a little below even, so that time
and place alone (every factor unknown) cannot reach the default threshold of 0.6.

Reason details never quote names, ID numbers, birth dates or contacts; they state ages, genders,
distances and the shared descriptive words, which are the point of matching.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from exchange.models.base import CLOCK_SKEW
from exchange.models.common import Gender, PersonDescription, TransportFacilityKind
from exchange.models.missing_persons import (
    MissingPersonCategory,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.models.sightings import TransportSighting
from exchange.rules.geo import Point, distance_km

__all__ = [
    "ADULT_AGE_TOLERANCE_YEARS",
    "CHILD_AGE_TOLERANCE_YEARS",
    "LOCATION_SLACK_KM",
    "MAX_PLAUSIBLE_SPEED_KMH",
    "NEUTRAL_SCORE",
    "ROAD",
    "TIME_HALF_LIFE_HOURS",
    "WEIGHTS",
    "MatchCandidate",
    "MatchReason",
    "match_sighting",
    "score_person",
]

#: Mode used when the sighting names no transport facility: anywhere reachable by road.
ROAD = "ROAD"

_HIGH_SPEED_RAIL_KMH = 350.0  # CR400 Fuxing service speed (高铁)
_AIRLINER_KMH = 900.0  # jet cruise speed
_ROAD_KMH = 120.0  # expressway speed limit (高速公路)

#: Fastest plausible way to have reached a place of each facility kind (``TransportFacilityKind``
#: values, plus :data:`ROAD`), in km/h. Stations and airports count as their vehicles. A metro,
#: bus or coach is never faster than a car on the expressway, so road speed bounds them.
MAX_PLAUSIBLE_SPEED_KMH: Mapping[str, float] = MappingProxyType(
    {
        TransportFacilityKind.TRAIN.value: _HIGH_SPEED_RAIL_KMH,
        TransportFacilityKind.RAILWAY_STATION.value: _HIGH_SPEED_RAIL_KMH,
        TransportFacilityKind.FLIGHT.value: _AIRLINER_KMH,
        TransportFacilityKind.AIRPORT.value: _AIRLINER_KMH,
        TransportFacilityKind.METRO_TRAIN.value: _ROAD_KMH,
        TransportFacilityKind.METRO_STATION.value: _ROAD_KMH,
        TransportFacilityKind.COACH.value: _ROAD_KMH,
        TransportFacilityKind.BUS_STATION.value: _ROAD_KMH,
        TransportFacilityKind.OTHER.value: _ROAD_KMH,
        ROAD: _ROAD_KMH,
    }
)

#: Weight of each factor in the combined score; they sum to 1.
WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"gender": 0.15, "age": 0.25, "clothing": 0.15, "marks": 0.25, "distance": 0.10, "time": 0.10}
)

#: Score of a factor with nothing to compare (unknown on one side or both).
NEUTRAL_SCORE = 0.4
#: Ages seen by eye are estimates: children within this many years of the case still match.
CHILD_AGE_TOLERANCE_YEARS = 2.0
#: Adults' ages are harder to judge by eye, so their tolerance is wider.
ADULT_AGE_TOLERANCE_YEARS = 5.0
#: Last-seen places and sighting places are approximate: this much distance needs no travel.
LOCATION_SLACK_KM = 2.0
#: The time factor halves every this many hours after the last-seen time.
TIME_HALF_LIFE_HOURS = 48.0

_ADULT_AGE = 18
_YEAR = timedelta(days=365.2425)
_HOUR = timedelta(hours=1)
_MAX_WORDS_SHOWN = 5


@dataclass(frozen=True)
class MatchReason:
    """One factor's contribution: its name, its score 0..1 and why, without personal data."""

    factor: str
    score: float
    detail: str


@dataclass(frozen=True)
class MatchCandidate:
    """A sighting that may be the missing person of a case, for the unit that owns the case."""

    case_id: str
    sighting_id: str
    person_index: int  # index into the sighting's suspectedPersons
    score: float  # 0..1
    reasons: tuple[MatchReason, ...]
    owner_unit: str | None  # reportingUnit.unitId, else its agencyId


def score_person(
    case: MissingPersonReport, person: PersonDescription, sighting: TransportSighting
) -> tuple[float, tuple[MatchReason, ...]] | None:
    """Score one suspected person of ``sighting`` against ``case``; ``None`` when ruled out.

    The case's status is not looked at: :func:`match_sighting` keeps only open cases.
    """
    elapsed = sighting.observedAt - case.lastSeenAt
    if elapsed < -CLOCK_SKEW:
        return None  # seen before they went missing
    hours = max(0.0, elapsed / _HOUR)
    gender = _gender(case.missingPerson.description.gender, person.gender)
    age = _age(case, person, sighting.observedAt)
    distance = _distance(case, sighting, hours)
    if gender is None or age is None or distance is None:
        return None
    described = case.missingPerson.description
    reasons = (
        gender,
        age,
        _text("clothing", described.clothing, person.clothing),
        _text("marks", described.distinguishingMarks, person.distinguishingMarks),
        distance,
        _time(hours),
    )
    score = sum(WEIGHTS[reason.factor] * reason.score for reason in reasons)
    return min(1.0, max(0.0, score)), reasons


def match_sighting(
    sighting: TransportSighting,
    open_cases: Iterable[MissingPersonReport],
    *,
    threshold: float = 0.6,
) -> list[MatchCandidate]:
    """Candidates scoring at least ``threshold``: the best suspected person per OPEN case.

    Sorted by score, highest first; on equal scores MINOR cases come first, then by case id.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    ranked: list[tuple[bool, MatchCandidate]] = []
    for case in open_cases:
        if case.status is not MissingPersonStatus.OPEN:
            continue
        best: tuple[int, float, tuple[MatchReason, ...]] | None = None
        for index, person in enumerate(sighting.suspectedPersons):
            scored = score_person(case, person, sighting)
            if scored is not None and (best is None or scored[0] > best[1]):
                best = (index, *scored)
        if best is None or best[1] < threshold:
            continue
        unit = case.reportingUnit
        candidate = MatchCandidate(
            case_id=case.caseId,
            sighting_id=sighting.sightingId,
            person_index=best[0],
            score=best[1],
            reasons=best[2],
            owner_unit=unit.unitId or unit.agencyId,
        )
        ranked.append((case.category is MissingPersonCategory.MINOR, candidate))
    ranked.sort(key=lambda item: (-item[1].score, not item[0], item[1].case_id))
    return [candidate for _, candidate in ranked]


# --- factors ---------------------------------------------------------------------------------


def _gender(case: Gender, seen: Gender) -> MatchReason | None:
    if case is Gender.UNKNOWN or seen is Gender.UNKNOWN:
        side = "both sides" if case is seen else ("case" if case is Gender.UNKNOWN else "sighting")
        return MatchReason("gender", NEUTRAL_SCORE, f"unknown on {side}")
    if case is not seen:
        return None
    return MatchReason("gender", 1.0, f"both {case.value}")


def _described_ages(person: PersonDescription) -> tuple[float, float] | None:
    """Ages as a half-open interval in years: ``ageYears=6`` is [6, 7)."""
    if person.ageYears is not None:
        return float(person.ageYears), person.ageYears + 1.0
    if person.ageRange is not None:
        return float(person.ageRange.min), person.ageRange.max + 1.0
    return None


def _case_ages_at(case: MissingPersonReport, when: datetime) -> tuple[float, float] | None:
    """The missing person's age at ``when``: from the birth date, else as reported plus time."""
    person = case.missingPerson
    if person.birthDate is not None:
        age = (when.date() - person.birthDate) / _YEAR
        return age, age
    ages = _described_ages(person.description)
    if ages is None:
        return None
    grown = (when - case.reportedAt) / _YEAR
    return ages[0] + grown, ages[1] + grown


def _fmt_ages(ages: tuple[float, float]) -> str:
    """Whole years, ignoring the first month past a birthday: [6.01, 7.01) shows as "6"."""
    low = math.floor(ages[0])
    high = max(low, math.ceil(ages[1] - 1 / 12) - 1)
    return str(low) if low == high else f"{low}-{high}"


def _age(case: MissingPersonReport, seen: PersonDescription, when: datetime) -> MatchReason | None:
    case_ages = _case_ages_at(case, when)
    seen_ages = _described_ages(seen)
    if case_ages is None or seen_ages is None:
        side = "case" if case_ages is None else "sighting"
        if case_ages is None and seen_ages is None:
            side = "both sides"
        return MatchReason("age", NEUTRAL_SCORE, f"unknown on {side}")
    child = (
        case.category is MissingPersonCategory.MINOR
        or case.missingPerson.isMinor
        or case_ages[0] < _ADULT_AGE
    )
    tolerance = CHILD_AGE_TOLERANCE_YEARS if child else ADULT_AGE_TOLERANCE_YEARS
    gap = max(0.0, seen_ages[0] - case_ages[1], case_ages[0] - seen_ages[1])
    if gap > tolerance:
        return None
    ages = f"about {_fmt_ages(case_ages)} at sighting, seen as {_fmt_ages(seen_ages)}"
    if gap == 0.0:
        return MatchReason("age", 1.0, f"{ages}: overlap")
    score = 1.0 - 0.5 * gap / tolerance
    return MatchReason("age", score, f"{ages}: {gap:.1f} y apart, within ±{tolerance:.0f} y")


_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
#: English filler words left out of the comparison.
_STOP_WORDS = frozenset({
    "a", "above", "an", "and", "are", "at", "below", "by", "for", "has", "have", "her", "his",
    "in", "is", "it", "near", "no", "not", "of", "on", "or", "over", "the", "their", "to",
    "under", "very", "wearing", "with", "without",
})  # fmt: skip


def _tokens(text: str | None) -> frozenset[str]:
    """Lower-cased words (a plural ``s`` dropped) and Chinese bigrams (a lone character alone)."""
    if not text:
        return frozenset()
    lowered = text.lower()
    words = {
        word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
        for word in _WORD.findall(lowered)
        if len(word) > 1 and word not in _STOP_WORDS
    }
    for run in _HAN.findall(lowered):
        words.update([run] if len(run) == 1 else (run[i : i + 2] for i in range(len(run) - 1)))
    return frozenset(words)


def _text(factor: str, case_text: str | None, seen_text: str | None) -> MatchReason:
    case_words, seen_words = _tokens(case_text), _tokens(seen_text)
    if not case_words or not seen_words:
        side = "case" if not case_words else "sighting"
        if not case_words and not seen_words:
            side = "either side"
        return MatchReason(factor, NEUTRAL_SCORE, f"{factor}: not described on {side}")
    shared = case_words & seen_words
    union = case_words | seen_words
    detail = f"{factor}: {len(shared)} of {len(union)} words shared"
    if shared:
        shown = sorted(shared)[:_MAX_WORDS_SHOWN]
        more = ", ..." if len(shared) > _MAX_WORDS_SHOWN else ""
        detail += f" ({', '.join(shown)}{more})"
    return MatchReason(factor, len(shared) / len(union), detail)


def _fmt_hours(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def _distance(
    case: MissingPersonReport, sighting: TransportSighting, hours: float
) -> MatchReason | None:
    last, here = case.lastSeenLocation, sighting.location
    km = distance_km(Point(last.lat, last.lon), Point(here.lat, here.lon))
    mode = here.facility.kind.value if here.facility is not None else ROAD
    max_kmh = MAX_PLAUSIBLE_SPEED_KMH[mode]
    reach = max_kmh * hours + LOCATION_SLACK_KM
    if km > reach:
        return None
    detail = (
        f"{km:.1f} km from last-seen place in {_fmt_hours(hours)}, "
        f"within reach by {mode} (up to {max_kmh:.0f} km/h)"
    )
    return MatchReason("distance", 1.0 - km / reach, detail)


def _time(hours: float) -> MatchReason:
    score = 0.5 ** (hours / TIME_HALF_LIFE_HOURS)
    return MatchReason("time", score, f"seen {_fmt_hours(hours)} after last seen")
