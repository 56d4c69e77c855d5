"""One valid, realistic example per event, for the demo, the CLI docs and the tests.

ALL PERSONAL DATA HERE IS FICTIONAL: names, identity numbers, phone numbers and companies are
invented (the identifiers are made valid by computing their GB 11643 / GB 32100 check characters,
not taken from real people or businesses). Places are real Xi'an places, approximate.

``example_json(name)`` gives the JSON a user would write for ``exchange publish <name>``:
ISO-8601 times with a +08:00 offset, dates as YYYY-MM-DD, unset optional fields left out.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from exchange.models.common import (
    AgencyRef,
    AgeRange,
    Gender,
    IdentityDocument,
    IdentityDocumentKind,
    Location,
    Person,
    PersonDescription,
    TransportFacility,
    TransportFacilityKind,
)
from exchange.models.intermediaries import (
    IntermediaryAction,
    IntermediaryKind,
    IntermediaryRevocation,
)
from exchange.models.missing_persons import (
    MissingPersonCategory,
    MissingPersonReport,
)
from exchange.models.referrals import (
    Referral,
    ReferralPurpose,
    ReferralStatus,
    Rescue,
    RescuedVictim,
    VictimNeeds,
    VictimSituation,
)
from exchange.models.sightings import (
    TransportSighting,
)

__all__ = [
    "example_intermediary_revocation",
    "example_missing_person_report",
    "example_referral",
    "example_rescue",
    "example_transport_sighting",
]

CST = timezone(timedelta(hours=8))  # China Standard Time, Asia/Shanghai has no DST

#: Fictional missing girl (Yanta district, born 2016-03-12, sequence 024 = female).
_CHILD_ID = "61011320160312024X"
#: Fictional adult victim from Kaili, Guizhou (born 1998-07-21, sequence 046 = female).
_VICTIM_ID = "522601199807210468"
#: Fictional job agency registered in Lianhu district (GB 32100 check character computed).
_AGENCY_USCC = "91610104MA7B3CRQ1H"

_YANTA_POLICE = AgencyRef(
    agencyId="police", unitId="police.yanta", displayName="西安市公安局雁塔分局 Yanta sub-bureau"
)


def example_missing_person_report() -> MissingPersonReport:
    """A 9-year-old girl missing near Xiaozhai metro station; public alert authorised."""
    return MissingPersonReport(
        caseId="A6101130000002025050001",
        category=MissingPersonCategory.MINOR,
        missingPerson=Person(
            name="王小雨 (fictional)",
            isMinor=True,
            birthDate=date(2016, 3, 12),
            description=PersonDescription(
                ageYears=9,
                gender=Gender.FEMALE,
                heightCm=132,
                clothing="pink hooded jacket, blue jeans, white trainers, yellow school bag",
                distinguishingMarks="small scar above the left eyebrow",
            ),
            documents=(IdentityDocument(kind=IdentityDocumentKind.RESIDENT_ID, number=_CHILD_ID),),
            nationality="CHN",
            homeRegionCode="610113",
        ),
        lastSeenAt=datetime(2025, 5, 18, 16, 40, tzinfo=CST),
        lastSeenLocation=Location(
            lat=34.2235,
            lon=108.9474,
            regionCode="610113",
            address="小寨 Xiaozhai, exit A, Changan Middle Road",
            facility=TransportFacility(
                kind=TransportFacilityKind.METRO_STATION,
                name="小寨站 Xiaozhai (lines 2, 3)",
            ),
        ),
        circumstances="Separated from her grandmother in the crowd at the metro exit after school.",
        publicAlert=True,
        publicContactPhone="110",
        familyContact="+86 138 0000 0000",
        reportingUnit=_YANTA_POLICE,
        reportedAt=datetime(2025, 5, 18, 17, 5, tzinfo=CST),
    )


def example_rescue() -> Rescue:
    """Police free a young woman held for a forced marriage; she wants to go home."""
    return Rescue(
        rescueId="R-2025-0042",
        caseId="A6101160000002025040017",
        rescuedAt=datetime(2025, 5, 20, 6, 30, tzinfo=CST),
        place=Location(
            lat=34.1587, lon=108.9066, regionCode="610116", address="a village in Chang'an district"
        ),
        rescuingUnit=AgencyRef(
            agencyId="police", unitId="police.changan", displayName="长安分局 Chang'an sub-bureau"
        ),
        victims=(
            RescuedVictim(
                person=Person(
                    name="李芳 (fictional)",
                    isMinor=False,
                    birthDate=date(1998, 7, 21),
                    description=PersonDescription(ageYears=26, gender=Gender.FEMALE),
                    documents=(
                        IdentityDocument(kind=IdentityDocumentKind.RESIDENT_ID, number=_VICTIM_ID),
                    ),
                    nationality="CHN",
                    homeRegionCode="522601",
                ),
                situation=VictimSituation.FORCED_MARRIAGE,
                situationDetails="Held for eight months; bruises on the arms, exhausted.",
                needs=VictimNeeds(
                    temporaryAssistance=True,
                    medicalCare=True,
                    psychologicalCare=True,
                    legalAid=True,
                    canReturnHome=True,
                    wantsToReturnHome=True,
                ),
                familyContact="+86 139 0000 0000",
            ),
        ),
        notes="Victim speaks Mandarin and Miao; a female officer accompanies her.",
        reportedAt=datetime(2025, 5, 20, 9, 15, tzinfo=CST),
    )


def example_referral() -> Referral:
    """Police refer the rescued woman to civil affairs for temporary assistance (Art. 6)."""
    return Referral(
        referralId="RF-2025-0107",
        caseId="A6101160000002025040017",
        fromAgency=AgencyRef(agencyId="police", unitId="police.changan"),
        toAgency=AgencyRef(
            agencyId="civil-affairs",
            unitId="civil-affairs.relief-station",
            displayName="西安市救助管理站 Xi'an relief station",
        ),
        purpose=ReferralPurpose.TEMPORARY_ASSISTANCE,
        legalBasis="西安市反拐实施细则 第六条 (Xi'an implementing rules, Art. 6)",
        subject=Person(
            name="李芳 (fictional)",
            description=PersonDescription(gender=Gender.FEMALE),
            documents=(IdentityDocument(kind=IdentityDocumentKind.RESIDENT_ID, number=_VICTIM_ID),),
        ),
        dueDate=date(2025, 5, 21),
        status=ReferralStatus.ISSUED,
        notes="Shelter, clothing and a ticket home to Kaili once medical checks are done.",
        reportedAt=datetime(2025, 5, 20, 9, 30, tzinfo=CST),
    )


def example_transport_sighting() -> TransportSighting:
    """Railway staff on train G87 at Xi'an North see a crying child with two adults."""
    return TransportSighting(
        sightingId="RW-XAN-20250518-0031",
        observedAt=datetime(2025, 5, 18, 18, 2, tzinfo=CST),
        location=Location(
            lat=34.3773,
            lon=108.9393,
            regionCode="610112",
            address="西安北站 Xi'an North, platform 12",
            facility=TransportFacility(
                kind=TransportFacilityKind.TRAIN,
                code="G87",
                name="G87 Beijing West - Chengdu East",
                nextStop="汉中 Hanzhong",  # stop pattern illustrative
            ),
        ),
        reporter=AgencyRef(
            agencyId="transport", unitId="transport.rail", displayName="西安北站 station staff"
        ),
        reporterStaffId="XAN-04417",
        suspectedPersons=(
            PersonDescription(
                ageRange=AgeRange(min=4, max=6),
                gender=Gender.MALE,
                clothing="red T-shirt, no shoes",
            ),
            PersonDescription(
                ageRange=AgeRange(min=35, max=45), gender=Gender.MALE, clothing="grey jacket"
            ),
            PersonDescription(
                ageRange=AgeRange(min=30, max=40), gender=Gender.FEMALE, clothing="black coat"
            ),
        ),
        situation="Boy crying and asking for his mother; the adults do not know his name and "
        "hold tickets bought an hour ago in cash.",
        childAtRisk=True,
        destination="Chengdu East",
        reportedAt=datetime(2025, 5, 18, 18, 4, tzinfo=CST),
    )


def example_intermediary_revocation() -> IntermediaryRevocation:
    """Market regulation revokes a job agency that advertised fake jobs abroad (fictional)."""
    return IntermediaryRevocation(
        decisionNumber="西市监罚〔2025〕0173号",  # noqa: RUF001  -- official document-number brackets
        unifiedSocialCreditCode=_AGENCY_USCC,
        name="西安某某人力资源服务有限公司 (fictional)",
        licenceNumber="610104202300015",
        kind=IntermediaryKind.JOB,
        action=IntermediaryAction.REVOKED,
        reason="False overseas job adverts luring job seekers across the border (Art. 7).",
        effectiveDate=date(2025, 6, 1),
        issuingUnit=AgencyRef(
            agencyId="market-regulation",
            unitId="market-regulation.lianhu",
            displayName="莲湖区市场监督管理局 Lianhu market regulation",
        ),
        reportedAt=datetime(2025, 5, 22, 10, 0, tzinfo=CST),
    )
