"""Validators for the identifiers and values the exchange carries, by their real standards.

Pure functions (``check_*`` raise :class:`~exchange.models.exceptions.InvalidIdentifier` naming
the rule, ``is_valid_*`` answer a bool) usable without pydantic, plus ``Annotated`` types that
apply them inside the models:

- GB 11643-1999 citizen identity number (公民身份号码): 18 characters, region prefix, birth date,
  sequence (odd = male), ISO 7064 MOD 11-2 check character. A lower-case ``x`` check character is
  accepted and normalised to ``X`` (people type it; registers store ``X``).
- GB 32100-2015 unified social credit code (统一社会信用代码): 18 characters from a 31-character
  set, ISO 7064-style MOD 31 check character. Lower case is rejected: the code is printed in upper
  case on every licence, so lower case signals a transcription error worth a look.
- GB/T 2260 administrative region codes: :mod:`exchange.models.regions`.
- WGS84 coordinates, ISO 3166-1 alpha-3 country codes, timezone-aware instants.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Final, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from exchange import clock
from exchange.models.exceptions import InvalidIdentifier
from exchange.models.regions import PROVINCE_CODES, check_region_code
from exchange.models.rule_errors import rule_error

__all__ = [
    "AwareDatetime",
    "CountryCode",
    "Latitude",
    "Longitude",
    "PhoneNumber",
    "RegionCode",
    "ResidentIdNumber",
    "SocialCreditCode",
    "Uri",
    "check_aware_datetime",
    "check_country_code",
    "check_latitude",
    "check_longitude",
    "check_phone_number",
    "check_resident_id",
    "check_social_credit_code",
    "check_uri",
    "is_valid_resident_id",
    "is_valid_social_credit_code",
    "resident_id_birth_date",
    "resident_id_check_char",
    "resident_id_is_male",
    "social_credit_check_char",
]

CHINA_TZ: Final = timezone(timedelta(hours=8), "CST")

# --- GB 11643 ----------------------------------------------------------------------------------

_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS: Final = "10X98765432"  # indexed by (sum mod 11)
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_EARLIEST_BIRTH: Final = date(1800, 1, 1)  # GB 11643 itself uses a birth in 1880 as example
#: An identity number is a person's: its errors (dead-letter headers, error reports, logs)
#: never repeat any part of it, birth date and region included.
_NOT_REPEATED: Final = " (the number is not repeated here: it is personal data)"


def resident_id_check_char(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits of an identity number."""
    if len(first17) != 17 or not first17.isdigit() or not first17.isascii():
        raise InvalidIdentifier(
            "gb11643_format",
            "GB 11643 needs 17 digits before the check character, got "
            f"{len(first17)} characters{_NOT_REPEATED}",
        )
    total = sum(map(operator.mul, map(int, first17), _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11]


def check_resident_id(number: str, *, today: date | None = None) -> str:
    """Validate a GB 11643 18-character citizen identity number and return it normalised.

    Checks, in order: length, characters, region prefix (valid province), birth date (a real
    calendar date between 1800-01-01 and ``today``, default today in China time by
    :func:`exchange.clock.now`), check character.
    A lower-case ``x`` is accepted and returned as ``X``.
    """
    if len(number) != 18:
        raise InvalidIdentifier(
            "gb11643_length",
            f"GB 11643 identity number must have 18 characters, got {len(number)}",
            number,
        )
    normalised = number[:17] + number[17].upper()
    if not _ID_SHAPE.fullmatch(normalised):
        raise InvalidIdentifier(
            "gb11643_format",
            "GB 11643 identity number must be 17 digits followed by a digit or 'X'",
            number,
        )
    if normalised[:2] not in PROVINCE_CODES:
        raise InvalidIdentifier(
            "gb11643_region",
            "GB 11643 region prefix: the first two digits are not a province-level GB/T 2260 "
            f"code{_NOT_REPEATED}",
            number,
        )
    birth = _birth_date(normalised)
    latest = today if today is not None else clock.now().astimezone(CHINA_TZ).date()
    if birth is None or not _EARLIEST_BIRTH <= birth <= latest:
        raise InvalidIdentifier(
            "gb11643_birth_date",
            "GB 11643 birth date (digits 7-14) is not a valid date between "
            f"{_EARLIEST_BIRTH.isoformat()} and {latest.isoformat()}{_NOT_REPEATED}",
            number,
        )
    expected = resident_id_check_char(normalised[:17])
    if normalised[17] != expected:
        raise InvalidIdentifier(
            "gb11643_check_char",
            "GB 11643 check character: the 18th character does not match the first 17 "
            f"digits (a typing error?){_NOT_REPEATED}",
            number,
        )
    return normalised


def is_valid_resident_id(number: str) -> bool:
    """True if :func:`check_resident_id` accepts ``number``."""
    try:
        check_resident_id(number)
    except InvalidIdentifier:
        return False
    return True


def _birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def resident_id_birth_date(number: str, *, checked: bool = False) -> date:
    """Birth date encoded in a GB 11643 identity number (``checked``: already validated)."""
    birth = _birth_date(number if checked else check_resident_id(number))
    assert birth is not None  # noqa: S101  -- check_resident_id has verified it
    return birth


def resident_id_is_male(number: str, *, checked: bool = False) -> bool:
    """Sex encoded in a GB 11643 number: the sequence (digits 15-17) is odd for male.

    ``checked``: the number was already validated (e.g. by the model's field type)."""
    return int((number if checked else check_resident_id(number))[16]) % 2 == 1


# --- GB 32100 ----------------------------------------------------------------------------------

_USCC_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_USCC_VALUES: Final = {c: i for i, c in enumerate(_USCC_CHARSET)}
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))  # 1 3 9 27 19 26 16 17 20 ...


def social_credit_check_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a credit code."""
    bad = sorted({c for c in first17 if c not in _USCC_VALUES})
    if len(first17) != 17 or bad:
        raise InvalidIdentifier(
            "gb32100_charset",
            f"GB 32100 needs 17 characters from {_USCC_CHARSET!r} before the check character, "
            f"got {first17!r}",
        )
    total = sum(_USCC_VALUES[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARSET[(31 - total % 31) % 31]


def check_social_credit_code(code: str) -> str:
    """Validate a GB 32100 unified social credit code: length, character set, region digits,
    check character. Returns ``code`` unchanged."""
    if len(code) != 18:
        raise InvalidIdentifier(
            "gb32100_length",
            f"GB 32100 unified social credit code must have 18 characters, got {len(code)}",
            code,
        )
    bad = sorted({c for c in code if c not in _USCC_VALUES})
    if bad:
        raise InvalidIdentifier(
            "gb32100_charset",
            f"GB 32100 code contains {''.join(bad)!r}, not in {_USCC_CHARSET!r} "
            "(upper case; no I, O, S, V, Z)",
            code,
        )
    if not code[2:8].isdigit():
        raise InvalidIdentifier(
            "gb32100_region",
            f"GB 32100 characters 3-8 must be a 6-digit region code, got {code[2:8]!r}",
            code,
        )
    expected = social_credit_check_char(code[:17])
    if code[17] != expected:
        raise InvalidIdentifier(
            "gb32100_check_char",
            f"GB 32100 check character: expected {expected!r}, got {code[17]!r}",
            code,
        )
    return code


def is_valid_social_credit_code(code: str) -> bool:
    """True if :func:`check_social_credit_code` accepts ``code``."""
    try:
        check_social_credit_code(code)
    except InvalidIdentifier:
        return False
    return True


# --- WGS84, country codes, phone numbers, URIs, instants ---------------------------------------


def _check_degrees(value: float, limit: float, axis: str) -> float:
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise InvalidIdentifier(
            f"wgs84_{axis}",
            f"WGS84 {axis} must be within [-{limit:g}, {limit:g}], got {value}",
            value,
        )
    return value


def check_latitude(value: float) -> float:
    """Return ``value`` if it is a WGS84 latitude in [-90, 90]."""
    return _check_degrees(value, 90.0, "latitude")


def check_longitude(value: float) -> float:
    """Return ``value`` if it is a WGS84 longitude in [-180, 180]."""
    return _check_degrees(value, 180.0, "longitude")


_ALPHA3 = re.compile(r"[A-Z]{3}")


def check_country_code(code: str) -> str:
    """Return ``code`` if it has the ISO 3166-1 alpha-3 shape (3 upper-case letters)."""
    if not _ALPHA3.fullmatch(code):
        raise InvalidIdentifier(
            "iso3166_alpha3",
            f"ISO 3166-1 alpha-3 country code must be 3 upper-case letters, got {code!r}",
            code,
        )
    return code


_PHONE = re.compile(r"\+?[0-9][0-9 -]{1,23}[0-9]")


def check_phone_number(number: str) -> str:
    """Return ``number`` if it looks like a phone number: digits, spaces, hyphens, leading +."""
    if not _PHONE.fullmatch(number):
        raise InvalidIdentifier(
            "phone_number",
            "phone number must be 3-25 digits with optional spaces, hyphens and a leading '+' "
            "(value not repeated here: it is personal data)",
            number,
        )
    return number


def check_uri(value: str) -> str:
    """Return ``value`` if it is an absolute URI (has a scheme, RFC 3986)."""
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.path) or any(c.isspace() for c in value):
        raise InvalidIdentifier(
            "uri",
            "expected an absolute URI such as 'https://...' without spaces "
            "(value not repeated here: it may be personal data)",
            value,
        )
    return value


def check_aware_datetime(value: datetime) -> datetime:
    """Return ``value`` if it is timezone-aware; a naive time is ambiguous across agencies."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidIdentifier(
            "timezone_aware",
            f"time {value.isoformat()} has no UTC offset; give one, e.g. "
            f"'{value.isoformat()}+08:00' for China Standard Time",
            value,
        )
    if value < EARLIEST_TIME:
        raise InvalidIdentifier(
            "time_too_early",
            f"time {value.isoformat()} is before {EARLIEST_TIME.date().isoformat()}; "
            "a default or epoch value was probably sent for a missing time",
            value,
        )
    if value > clock.now() + LATEST_AHEAD:
        raise InvalidIdentifier(
            "time_too_late",
            f"time {value.isoformat()} is more than {LATEST_AHEAD.days} days in the future",
            value,
        )
    return value


#: The earliest time an event may name (older cases are still reported: long-missing children).
EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=UTC)
#: How far ahead of now an event may name a time (deadlines and expiries lie ahead, by weeks).
LATEST_AHEAD = timedelta(days=366)

# The latest time allowed, as last computed: it only grows, so a time before it is before the
# current limit too, and the clock is read again only for a time after it.
# --- Annotated types for the models ------------------------------------------------------------

_T = TypeVar("_T")


def _pydantic(check: Callable[[_T], _T]) -> AfterValidator:
    """Wrap a ``check_*`` function so pydantic reports our rule as the error type."""

    def validate(value: _T) -> _T:
        try:
            return check(value)
        except InvalidIdentifier as exc:
            raise rule_error(exc.rule, exc.errors[0].message) from exc

    return AfterValidator(validate)


ResidentIdNumber = Annotated[str, _pydantic(check_resident_id)]
SocialCreditCode = Annotated[str, _pydantic(check_social_credit_code)]
RegionCode = Annotated[str, _pydantic(check_region_code)]
Latitude = Annotated[float, _pydantic(check_latitude)]
Longitude = Annotated[float, _pydantic(check_longitude)]
CountryCode = Annotated[str, _pydantic(check_country_code)]
PhoneNumber = Annotated[str, _pydantic(check_phone_number)]
Uri = Annotated[str, _pydantic(check_uri)]
def _refuse_numeric_time(value: object) -> object:
    """Refuse epoch numbers for times: seconds and milliseconds are too easily confused.

    RFC 3339 text is parsed here: strict validation (JSON input, see ``validate_event``) would
    refuse it as text once it is handed to the datetime schema as a Python value."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise rule_error(
            "rfc3339_time",
            "give times as RFC 3339 text with a UTC offset, e.g. '2026-11-29T08:30:00+08:00', "
            "not as a number",
        )
    if isinstance(value, str):
        try:
            return _LAX_DATETIME.validate_python(value)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            raise rule_error(first["type"], first["msg"]) from None
    return value


_LAX_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _aware_time(value: object, handler: ValidatorFunctionWrapHandler) -> datetime:
    """One validator for a time (one Python call per time field, on the decode path too): a
    ``datetime`` (as the Avro decoder gives it) is checked directly, anything else is refused
    if a number, parsed if text, then validated as a datetime; then the aware-time rules."""
    moment = value if type(value) is datetime else handler(_refuse_numeric_time(value))
    try:
        return check_aware_datetime(moment)
    except InvalidIdentifier as exc:
        raise rule_error(exc.rule, exc.errors[0].message) from exc


AwareDatetime = Annotated[datetime, WrapValidator(_aware_time)]
