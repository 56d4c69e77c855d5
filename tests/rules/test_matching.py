from __future__ import annotations

from datetime import timedelta

import pytest

from exchange.examples.core import example_missing_person_report, example_transport_sighting
from exchange.models.common import (
    AgeRange,
    Gender,
    Location,
    PersonDescription,
    TransportFacilityKind,
)
from exchange.models.missing_persons import (
    MissingPersonCategory,
    MissingPersonReport,
    MissingPersonStatus,
)
from exchange.models.sightings import TransportSighting
from exchange.rules.geo import Point, distance_km
from exchange.rules.matching import (
    MAX_PLAUSIBLE_SPEED_KMH,
    NEUTRAL_SCORE,
    ROAD,
    WEIGHTS,
    MatchCandidate,
    match_sighting,
    score_person,
)

BOY_NAME = "张小明 (fictional)"
BEIJING_CAPITAL_AIRPORT = Point(40.0799, 116.6031)


def boy_case(
    case_id: str = "A6101130000002025050002", *, age: int = 6, **update: object
) -> MissingPersonReport:
    """A 6-year-old boy in a red T-shirt, last seen in Yanta an hour before the example sighting."""
    report = example_missing_person_report()
    observed = example_transport_sighting().observedAt
    description = report.missingPerson.description.model_copy(
        update={
            "ageYears": age,
            "gender": Gender.MALE,
            "heightCm": 115,
            "clothing": "red T-shirt, blue shorts",
            "distinguishingMarks": None,
        }
    )
    person = report.missingPerson.model_copy(
        update={"name": BOY_NAME, "birthDate": None, "documents": (), "description": description}
    )
    fields: dict[str, object] = {
        "caseId": case_id,
        "missingPerson": person,
        "lastSeenAt": observed - timedelta(hours=1),
        "reportedAt": observed - timedelta(minutes=50),
    }
    return report.model_copy(update=fields | update)


def with_description(case: MissingPersonReport, **update: object) -> MissingPersonReport:
    person = case.missingPerson
    description = person.description.model_copy(update=update)
    return case.model_copy(
        update={"missingPerson": person.model_copy(update={"description": description})}
    )


def sighting_at(
    point: Point, kind: TransportFacilityKind | None, after_last_seen: timedelta
) -> TransportSighting:
    """The example sighting moved to ``point`` and ``after_last_seen`` the boy's last-seen time."""
    sighting = example_transport_sighting()
    facility = None
    if kind is not None:
        assert sighting.location.facility is not None
        facility = sighting.location.facility.model_copy(update={"kind": kind})
    location = Location(lat=point.lat, lon=point.lon, facility=facility)
    observed = boy_case().lastSeenAt + after_last_seen
    return sighting.model_copy(
        update={"location": location, "observedAt": observed, "reportedAt": observed}
    )


def only_person(sighting: TransportSighting, person: PersonDescription) -> TransportSighting:
    return sighting.model_copy(update={"suspectedPersons": (person,)})


def last_seen(case: MissingPersonReport) -> Point:
    return Point(case.lastSeenLocation.lat, case.lastSeenLocation.lon)


def test_example_sighting_matches_the_missing_boy_with_a_reason_per_factor() -> None:
    sighting = example_transport_sighting()
    candidates = match_sighting(sighting, [boy_case()])

    assert len(candidates) == 1
    candidate = candidates[0]
    assert candidate.case_id == "A6101130000002025050002"
    assert candidate.sighting_id == sighting.sightingId
    assert candidate.person_index == 0  # the boy, not the adults with him
    assert 0.6 <= candidate.score <= 1.0
    assert candidate.owner_unit == "police.yanta"
    reasons = {reason.factor: reason for reason in candidate.reasons}
    assert list(reasons) == list(WEIGHTS)
    assert reasons["gender"].score == 1.0
    assert reasons["gender"].detail == "both MALE"
    assert reasons["age"].score == 1.0
    assert reasons["age"].detail == "about 6 at sighting, seen as 4-6: overlap"
    assert reasons["clothing"].detail == "clothing: 2 of 5 words shared (red, t-shirt)"
    assert reasons["marks"].score == NEUTRAL_SCORE
    assert "TRAIN" in reasons["distance"].detail
    assert reasons["time"].detail == "seen 1.0 h after last seen"
    assert candidate.score == pytest.approx(
        sum(WEIGHTS[reason.factor] * reason.score for reason in candidate.reasons)
    )


def test_weights_sum_to_one_and_every_facility_kind_has_a_speed() -> None:
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)
    assert set(MAX_PLAUSIBLE_SPEED_KMH) == {kind.value for kind in TransportFacilityKind} | {ROAD}
    assert MAX_PLAUSIBLE_SPEED_KMH["TRAIN"] == 350
    assert MAX_PLAUSIBLE_SPEED_KMH["FLIGHT"] == 900


def test_gender_mismatch_rules_out() -> None:
    girl = with_description(boy_case(), gender=Gender.FEMALE)
    sighting = example_transport_sighting()

    assert score_person(girl, sighting.suspectedPersons[0], sighting) is None
    assert match_sighting(sighting, [girl]) == []


def test_unknown_gender_is_neutral() -> None:
    case = with_description(boy_case(), gender=Gender.UNKNOWN)
    sighting = example_transport_sighting()

    scored = score_person(case, sighting.suspectedPersons[0], sighting)

    assert scored is not None
    assert scored[1][0].score == NEUTRAL_SCORE
    assert scored[1][0].detail == "unknown on case"


@pytest.mark.parametrize("age", [10, 12, 40])
def test_age_too_far_rules_out(age: int) -> None:
    example = example_transport_sighting()
    sighting = only_person(example, example.suspectedPersons[0])  # the boy, seen as 4-6

    assert match_sighting(sighting, [boy_case(age=age)], threshold=0.0) == []


def test_adult_tolerance_is_wider() -> None:
    example = example_transport_sighting()
    man = example.suspectedPersons[1]  # seen as 35-45
    adult = boy_case(age=49, category=MissingPersonCategory.ADULT)
    adult = adult.model_copy(
        update={"missingPerson": adult.missingPerson.model_copy(update={"isMinor": False})}
    )

    scored = score_person(adult, man, example)
    assert scored is not None
    assert "within ±5 y" in scored[1][1].detail
    assert score_person(boy_case(age=49), man, example) is None  # a minor case: ±2 years


def test_age_within_the_child_tolerance_scores_lower() -> None:
    sighting = example_transport_sighting()
    exact = score_person(boy_case(), sighting.suspectedPersons[0], sighting)
    near = score_person(boy_case(age=8), sighting.suspectedPersons[0], sighting)

    assert exact is not None
    assert near is not None
    assert near[1][1].factor == "age"
    assert 0.5 <= near[1][1].score < 1.0
    assert "within ±2 y" in near[1][1].detail
    assert near[0] < exact[0]


def test_age_grows_from_report_to_sighting() -> None:
    sighting = example_transport_sighting()
    three_years = timedelta(days=3 * 365 + 1)
    reported_at_three = boy_case(
        age=3,
        lastSeenAt=sighting.observedAt - three_years,
        reportedAt=sighting.observedAt - three_years,
    )

    scored = score_person(reported_at_three, sighting.suspectedPersons[0], sighting)

    assert scored is not None
    assert scored[1][1].score == 1.0
    assert scored[1][1].detail.startswith("about 6 at sighting")


def test_birth_date_gives_the_age_at_sighting() -> None:
    report = example_missing_person_report()  # born 2016-03-12, 9 at the example sighting
    sighting = only_person(
        example_transport_sighting(),
        PersonDescription(ageRange=AgeRange(min=12, max=14), gender=Gender.FEMALE),
    )

    assert score_person(report, sighting.suspectedPersons[0], sighting) is None
    seen_at_nine = PersonDescription(ageYears=9, gender=Gender.FEMALE)
    scored = score_person(report, seen_at_nine, sighting)
    assert scored is not None
    assert scored[1][1].detail == "about 9 at sighting, seen as 9: overlap"


def test_sighting_too_far_for_the_time_is_ruled_out_by_speed() -> None:
    case = boy_case()
    start = last_seen(case)
    far = Point(start.lat + 4.5, start.lon)
    assert distance_km(start, far) == pytest.approx(500, abs=10)
    half_an_hour = sighting_at(far, TransportFacilityKind.TRAIN, timedelta(minutes=30))

    assert match_sighting(half_an_hour, [case], threshold=0.0) == []
    two_hours = sighting_at(far, TransportFacilityKind.TRAIN, timedelta(hours=2))
    assert match_sighting(two_hours, [case], threshold=0.0) != []


def test_a_flight_makes_900_km_in_two_hours_plausible_but_a_train_does_not() -> None:
    case = boy_case()
    assert distance_km(last_seen(case), BEIJING_CAPITAL_AIRPORT) == pytest.approx(900, abs=50)
    flight = sighting_at(BEIJING_CAPITAL_AIRPORT, TransportFacilityKind.FLIGHT, timedelta(hours=2))
    train = sighting_at(BEIJING_CAPITAL_AIRPORT, TransportFacilityKind.TRAIN, timedelta(hours=2))

    scored = score_person(case, flight.suspectedPersons[0], flight)
    assert scored is not None
    distance = scored[1][4]
    assert distance.factor == "distance"
    assert "FLIGHT (up to 900 km/h)" in distance.detail
    assert score_person(case, train.suspectedPersons[0], train) is None


def test_without_a_facility_road_speed_applies() -> None:
    case = boy_case()
    start = last_seen(case)
    far = Point(start.lat + 1.8, start.lon)  # about 200 km
    one_hour = sighting_at(far, None, timedelta(hours=1))
    two_hours = sighting_at(far, None, timedelta(hours=2))

    assert score_person(case, one_hour.suspectedPersons[0], one_hour) is None
    scored = score_person(case, two_hours.suspectedPersons[0], two_hours)
    assert scored is not None
    assert "by ROAD" in scored[1][4].detail


def test_closer_in_space_scores_higher() -> None:
    case = boy_case()
    start = last_seen(case)
    near = sighting_at(Point(start.lat + 0.01, start.lon), None, timedelta(hours=1))
    far = sighting_at(Point(start.lat + 0.5, start.lon), None, timedelta(hours=1))

    near_scored = score_person(case, near.suspectedPersons[0], near)
    far_scored = score_person(case, far.suspectedPersons[0], far)

    assert near_scored is not None
    assert far_scored is not None
    assert near_scored[1][4].score > far_scored[1][4].score
    assert near_scored[0] > far_scored[0]


@pytest.mark.parametrize(
    "status",
    [
        MissingPersonStatus.FOUND,
        MissingPersonStatus.CLOSED_FALSE_REPORT,
        MissingPersonStatus.WITHDRAWN,
    ],
)
def test_closed_cases_are_ignored(status: MissingPersonStatus) -> None:
    closed = boy_case(status=status)

    assert match_sighting(example_transport_sighting(), [closed], threshold=0.0) == []


def test_sighting_before_last_seen_rules_out() -> None:
    sighting = example_transport_sighting()
    later = boy_case(
        lastSeenAt=sighting.observedAt + timedelta(hours=1),
        reportedAt=sighting.observedAt + timedelta(hours=2),
    )

    assert score_person(later, sighting.suspectedPersons[0], sighting) is None
    assert match_sighting(sighting, [later], threshold=0.0) == []


def test_the_best_of_several_suspected_persons_is_chosen() -> None:
    sighting = example_transport_sighting().model_copy(
        update={
            "suspectedPersons": (
                PersonDescription(ageRange=AgeRange(min=30, max=40), gender=Gender.FEMALE),
                PersonDescription(ageRange=AgeRange(min=5, max=9)),
                PersonDescription(ageYears=6, gender=Gender.MALE, clothing="red t-shirt"),
                PersonDescription(ageRange=AgeRange(min=35, max=45), gender=Gender.MALE),
            )
        }
    )
    case = boy_case()

    [candidate] = match_sighting(sighting, [case], threshold=0.0)

    assert candidate.person_index == 2
    scores = [score_person(case, person, sighting) for person in sighting.suspectedPersons]
    assert scores[0] is None
    assert scores[3] is None
    assert scores[1] is not None
    assert scores[2] is not None
    assert candidate.score == scores[2][0] > scores[1][0]


def test_candidates_are_sorted_by_score_with_minors_first_on_ties() -> None:
    sighting = example_transport_sighting()
    best = boy_case("CASE-BEST")
    other_clothes = with_description(boy_case("CASE-CLOTHES"), clothing="red coat")
    older = boy_case("CASE-OLDER", age=8)
    endangered = boy_case("CASE-ENDANGERED", category=MissingPersonCategory.ENDANGERED)
    unrelated = with_description(boy_case("CASE-GIRL"), gender=Gender.FEMALE)

    candidates = match_sighting(
        sighting, [unrelated, older, endangered, other_clothes, best], threshold=0.0
    )

    assert [candidate.case_id for candidate in candidates] == [
        "CASE-BEST",
        "CASE-ENDANGERED",
        "CASE-CLOTHES",
        "CASE-OLDER",
    ]
    scores = [candidate.score for candidate in candidates]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == scores[1]


def test_threshold_filters_and_is_checked() -> None:
    sighting = example_transport_sighting()
    weak = with_description(boy_case(), gender=Gender.UNKNOWN, ageYears=None, clothing=None)

    assert match_sighting(sighting, [weak]) == []  # time and place alone are not enough
    assert len(match_sighting(sighting, [weak], threshold=0.0)) == 1
    with pytest.raises(ValueError, match="between 0 and 1"):
        match_sighting(sighting, [weak], threshold=1.5)


def test_chinese_descriptions_compare_by_bigrams() -> None:
    # Chinese text is punctuated with the full-width comma, which must split words too.
    case = with_description(boy_case(), clothing="红色短袖T恤，蓝色短裤")  # noqa: RUF001
    sighting = only_person(
        example_transport_sighting(),
        PersonDescription(ageYears=6, gender=Gender.MALE, clothing="穿红色短袖，光脚"),  # noqa: RUF001
    )

    scored = score_person(case, sighting.suspectedPersons[0], sighting)

    assert scored is not None
    clothing = scored[1][2]
    assert clothing.factor == "clothing"
    assert clothing.score > 0
    assert "红色" in clothing.detail
    assert "短袖" in clothing.detail


def test_reasons_contain_no_name_id_number_birth_date_or_phone() -> None:
    report = example_missing_person_report()  # the fictional girl, with a resident ID
    sighting = only_person(
        example_transport_sighting().model_copy(
            update={"observedAt": report.lastSeenAt + timedelta(hours=1)}
        ),
        PersonDescription(
            ageRange=AgeRange(min=8, max=10),
            gender=Gender.FEMALE,
            clothing="pink jacket, jeans",
            distinguishingMarks="scar above left eyebrow",
        ),
    )
    boy = boy_case()

    candidates = match_sighting(sighting, [report]) + match_sighting(
        example_transport_sighting(), [boy]
    )

    assert [candidate.case_id for candidate in candidates] == [report.caseId, boy.caseId]
    details = " | ".join(reason.detail for c in candidates for reason in c.reasons)
    assert "scar" in details  # descriptive words are the point of matching
    person = report.missingPerson
    assert person.name is not None
    assert person.birthDate is not None
    assert report.familyContact is not None
    secrets = [
        person.name,
        "王小雨",
        BOY_NAME,
        "张小明",
        person.documents[0].number,
        person.birthDate.isoformat(),
        "2016",
        report.familyContact,
        "138",
    ]
    for secret in secrets:
        assert secret not in details
    assert all(isinstance(c, MatchCandidate) for c in candidates)
