"""Rescued people of different ages, nationalities and situations, shared by the referral tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from exchange.examples.core import example_rescue
from exchange.models.common import AgeRange, Gender, Person, PersonDescription
from exchange.models.referrals import Rescue, RescuedVictim, VictimNeeds, VictimSituation


def victim(
    *, gender: Gender = Gender.FEMALE, birth: date | None = None, age: int | None = None,
    age_range: tuple[int, int] | None = None, minor: bool = False,
    nationality: str | None = "CHN", home: str | None = None,
    situation: VictimSituation = VictimSituation.FORCED_LABOUR, **needs: bool,
) -> RescuedVictim:
    description: dict[str, Any] = {"gender": gender, "ageYears": age}
    if age_range is not None:
        description["ageRange"] = AgeRange(min=age_range[0], max=age_range[1])
    return RescuedVictim(
        person=Person(
            isMinor=minor, birthDate=birth, description=PersonDescription(**description),
            nationality=nationality, homeRegionCode=home,
        ),
        situation=situation, needs=VictimNeeds(**needs),
    )


WOMAN_GOING_HOME = example_rescue().victims[0]  # 26, CHN, home in Guizhou (522601), 4 needs
BOY_17_NOT_HOME = victim(  # rescued 2025-05-20; born 2007-09-01: 17
    gender=Gender.MALE, birth=date(2007, 9, 1), minor=True, home="610113",
    canReturnHome=False, wantsToReturnHome=True,
)
GIRL_15_WANTS_TRAINING = victim(
    birth=date(2010, 1, 5), minor=True, home="610104", jobTraining=True,
    canReturnHome=True, wantsToReturnHome=False,
)
CHILD_8 = victim(
    gender=Gender.MALE, age=8, minor=True, home="610116",
    situation=VictimSituation.CHILD_TRAFFICKING, canReturnHome=True, wantsToReturnHome=True,
    temporaryAssistance=True,
)
FOREIGN_WOMAN = victim(
    age_range=(20, 25), nationality="VNM", situation=VictimSituation.FORCED_MARRIAGE,
    canReturnHome=True, wantsToReturnHome=True, medicalCare=True,
)
DISABLED_MAN_AGE_UNKNOWN = victim(
    gender=Gender.MALE, home="610112", disability=True, situation=VictimSituation.FORCED_BEGGING,
)

PEOPLE = (
    WOMAN_GOING_HOME, BOY_17_NOT_HOME, GIRL_15_WANTS_TRAINING, CHILD_8, FOREIGN_WOMAN,
    DISABLED_MAN_AGE_UNKNOWN,
)


def rescue_of(*victims: RescuedVictim, rescue_id: str = "R-2025-0042") -> Rescue:
    return example_rescue().model_copy(update={"rescueId": rescue_id, "victims": victims})
