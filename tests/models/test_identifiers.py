"""Standards-based validators: GB 11643, GB 32100, GB/T 2260, WGS84, time zones."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from exchange.models.exceptions import InvalidIdentifier, ValidationFailed
from exchange.models.identifiers import (
    check_aware_datetime,
    check_country_code,
    check_latitude,
    check_longitude,
    check_phone_number,
    check_resident_id,
    check_social_credit_code,
    check_uri,
    is_valid_resident_id,
    is_valid_social_credit_code,
    resident_id_birth_date,
    resident_id_check_char,
    resident_id_is_male,
    social_credit_check_char,
)
from exchange.models.regions import (
    XIAN_DISTRICTS,
    check_region_code,
    is_valid_region_code,
    is_xian_district,
)

# Computed by hand from the weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2:
# 61011320160312024 -> sum 167, 167 mod 11 = 2 -> 'X'  (fictional person)
# 11010519491231002X is the worked example of GB 11643-1999 itself.
GOOD_IDS = ["61011320160312024X", "522601199807210468", "11010519491231002X", "440524188001010014"]
# 91350100M000100Y43 is a widely published sample code; the others are fictional.
GOOD_USCC = ["91350100M000100Y43", "91610104MA7B3CRQ1H", "91610113MA6X0L2K8B"]


def _rule(exc: pytest.ExceptionInfo[InvalidIdentifier]) -> str:
    return exc.value.rule


class TestResidentId:
    @pytest.mark.parametrize("number", GOOD_IDS)
    def test_known_good(self, number: str) -> None:
        assert check_resident_id(number) == number
        assert is_valid_resident_id(number)

    def test_check_char_by_hand(self) -> None:
        digits = "61011320160312024"
        weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        total = sum(int(d) * w for d, w in zip(digits, weights, strict=True))
        assert total == 167
        assert total % 11 == 2
        assert resident_id_check_char(digits) == "X"

    def test_wrong_check_char_names_rule_not_the_number(self) -> None:
        with pytest.raises(InvalidIdentifier) as exc:
            check_resident_id("610113201603120243")
        assert _rule(exc) == "gb11643_check_char"
        assert str(exc.value.errors[0].message).startswith(
            "GB 11643 check character: the 18th character does not match the first 17 digits"
        )

    @pytest.mark.parametrize(("number", "rule"), [
        ("610113201603120243", "gb11643_check_char"),
        ("990113201603120243", "gb11643_region"),
        ("610113201613320243", "gb11643_birth_date"),
        ("61011320160312024", "gb11643_length"),
        ("6101132016031202A3", "gb11643_format"),
    ])
    def test_no_error_repeats_any_part_of_the_number(self, number: str, rule: str) -> None:
        """An identity number is personal data: its errors end in dead-letter headers, error
        reports and logs, so none repeats even four characters of it (region, birth date)."""
        with pytest.raises(InvalidIdentifier) as exc:
            check_resident_id(number)
        assert _rule(exc) == rule
        message = str(exc.value)
        assert not [number[i:i + 4] for i in range(len(number) - 3) if number[i:i + 4] in message]
        with pytest.raises(InvalidIdentifier) as first17:
            resident_id_check_char(number[:10] + "ABCDEFG")
        assert number[:10] not in str(first17.value)

    def test_is_a_validation_failed_and_value_error(self) -> None:
        with pytest.raises(ValidationFailed):
            check_resident_id("610113201603120243")
        with pytest.raises(ValueError, match="GB 11643"):
            check_resident_id("610113201603120243")

    def test_lower_case_x_is_accepted_and_normalised(self) -> None:
        assert check_resident_id("61011320160312024x") == "61011320160312024X"

    @pytest.mark.parametrize("number", ["61011320160312024", "61011320160312024X1", ""])
    def test_wrong_length(self, number: str) -> None:
        with pytest.raises(InvalidIdentifier) as exc:
            check_resident_id(number)
        assert _rule(exc) == "gb11643_length"

    @pytest.mark.parametrize(
        "number",
        [
            "6101132016031202AX",
            "X1011320160312024X",
            "\uff161011320160312024X",  # a full-width digit, as typed with a Chinese IME
        ],
    )
    def test_bad_characters(self, number: str) -> None:
        with pytest.raises(InvalidIdentifier) as exc:
            check_resident_id(number)
        assert _rule(exc) == "gb11643_format"

    def test_bad_region(self) -> None:
        body = "99011320160312024"
        with pytest.raises(InvalidIdentifier) as exc:
            check_resident_id(body + resident_id_check_char(body))
        assert _rule(exc) == "gb11643_region"

    @pytest.mark.parametrize(
        "birth",
        ["20160230", "20161301", "20160000", "17991231", "29990101"],
        ids=["feb30", "month13", "day0", "too-old", "future"],
    )
    def test_bad_birth_date(self, birth: str) -> None:
        body = f"610113{birth}024"
        with pytest.raises(InvalidIdentifier) as exc:
            check_resident_id(body + resident_id_check_char(body))
        assert _rule(exc) == "gb11643_birth_date"

    def test_today_is_injectable(self) -> None:
        body = "61011320250601001"
        number = body + resident_id_check_char(body)
        assert check_resident_id(number, today=date(2025, 6, 1)) == number
        with pytest.raises(InvalidIdentifier):
            check_resident_id(number, today=date(2025, 5, 31))

    def test_birth_date_and_sex(self) -> None:
        assert resident_id_birth_date("61011320160312024X") == date(2016, 3, 12)
        assert not resident_id_is_male("61011320160312024X")  # sequence 024 is even
        assert resident_id_is_male("610112198505041336")  # sequence 133 is odd


class TestSocialCreditCode:
    @pytest.mark.parametrize("code", GOOD_USCC)
    def test_known_good(self, code: str) -> None:
        assert check_social_credit_code(code) == code
        assert is_valid_social_credit_code(code)

    def test_check_char_by_hand(self) -> None:
        charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
        body = "91350100M000100Y4"
        total = sum(charset.index(c) * w for c, w in zip(body, weights, strict=True))
        assert charset[(31 - total % 31) % 31] == "3"
        assert social_credit_check_char(body) == "3"

    def test_wrong_check_char(self) -> None:
        with pytest.raises(InvalidIdentifier) as exc:
            check_social_credit_code("91350100M000100Y44")
        assert _rule(exc) == "gb32100_check_char"
        assert "expected '3', got '4'" in str(exc.value)

    @pytest.mark.parametrize("bad", ["I", "O", "S", "V", "Z", "a", "-"])
    def test_illegal_characters(self, bad: str) -> None:
        with pytest.raises(InvalidIdentifier) as exc:
            check_social_credit_code("91350100M000100Y4" + bad)
        assert _rule(exc) == "gb32100_charset"

    def test_lower_case_is_rejected(self) -> None:
        assert not is_valid_social_credit_code("91610104ma7b3crq1h")

    def test_wrong_length(self) -> None:
        with pytest.raises(InvalidIdentifier) as exc:
            check_social_credit_code("91350100M000100Y4")
        assert _rule(exc) == "gb32100_length"

    def test_region_digits(self) -> None:
        body = "9161A104MA7B3CRQ1"
        with pytest.raises(InvalidIdentifier) as exc:
            check_social_credit_code(body + social_credit_check_char(body))
        assert _rule(exc) == "gb32100_region"

    def test_check_value_31_becomes_0(self) -> None:
        # Find a body whose sum is divisible by 31: the check character must be '0', not error.
        for last in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            body = "9161010400000000" + last
            if social_credit_check_char(body) == "0":
                assert check_social_credit_code(body + "0")
                return
        pytest.fail("no body with check value 0 found")


class TestRegionCode:
    @pytest.mark.parametrize("code", ["610113", "610100", "610000", "110105", "820000", "522601"])
    def test_good(self, code: str) -> None:
        assert check_region_code(code) == code

    @pytest.mark.parametrize(
        ("code", "rule"),
        [
            ("61011", "gbt2260_format"),
            ("6101130", "gbt2260_format"),
            ("61O113", "gbt2260_format"),
            ("000000", "gbt2260_province"),
            ("991234", "gbt2260_province"),
            ("101010", "gbt2260_province"),
        ],
    )
    def test_bad(self, code: str, rule: str) -> None:
        with pytest.raises(InvalidIdentifier) as exc:
            check_region_code(code)
        assert _rule(exc) == rule
        assert not is_valid_region_code(code)

    def test_xian_districts(self) -> None:
        assert len(XIAN_DISTRICTS) == 13
        assert XIAN_DISTRICTS["610113"] == ("雁塔区", "Yanta")
        assert is_xian_district("610124")
        assert not is_xian_district("610100")  # the city itself
        assert not is_xian_district("610402")  # Xianyang, home of the airport
        assert all(is_valid_region_code(code) for code in XIAN_DISTRICTS)


class TestOtherValues:
    @pytest.mark.parametrize("lat", [-90.0, 0.0, 34.3773, 90.0])
    def test_latitude_good(self, lat: float) -> None:
        assert check_latitude(lat) == lat

    @pytest.mark.parametrize("lat", [-90.0001, 90.5, float("nan"), float("inf")])
    def test_latitude_bad(self, lat: float) -> None:
        with pytest.raises(InvalidIdentifier) as exc:
            check_latitude(lat)
        assert _rule(exc) == "wgs84_latitude"

    @pytest.mark.parametrize("lon", [-180.0, 108.9393, 180.0])
    def test_longitude_good(self, lon: float) -> None:
        assert check_longitude(lon) == lon

    @pytest.mark.parametrize("lon", [-180.5, 180.0001, 1000.0, float("-inf")])
    def test_longitude_bad(self, lon: float) -> None:
        with pytest.raises(InvalidIdentifier) as exc:
            check_longitude(lon)
        assert _rule(exc) == "wgs84_longitude"

    def test_aware_datetime(self) -> None:
        aware = datetime(2025, 5, 18, 18, 2, tzinfo=timezone(timedelta(hours=8)))
        assert check_aware_datetime(aware) is aware
        with pytest.raises(InvalidIdentifier, match=r"no UTC offset.*\+08:00") as exc:
            check_aware_datetime(aware.replace(tzinfo=None))
        assert _rule(exc) == "timezone_aware"

    def test_country_code(self) -> None:
        assert check_country_code("CHN") == "CHN"
        for bad in ("CN", "chn", "CHNA"):
            with pytest.raises(InvalidIdentifier):
                check_country_code(bad)

    def test_phone_number_does_not_echo_the_value(self) -> None:
        assert check_phone_number("+86 138 0000 0000")
        assert check_phone_number("110")
        with pytest.raises(InvalidIdentifier) as exc:
            check_phone_number("call 13800000000")
        assert "13800000000" not in str(exc.value)

    def test_uri(self) -> None:
        assert check_uri("https://police.example/photos/1.jpg")
        assert check_uri("urn:exchange:photo:1")
        with pytest.raises(InvalidIdentifier):
            check_uri("photo 1.jpg")
