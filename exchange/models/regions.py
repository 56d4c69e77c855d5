"""GB/T 2260 administrative region codes (行政区划代码): 6 digits with a valid province-level
prefix; the Xi'an districts and counties (西安市, 610100) are tabulated for the rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from exchange.models.exceptions import InvalidIdentifier

__all__ = [
    "PROVINCE_CODES",
    "XIAN_CITY_CODE",
    "XIAN_DISTRICTS",
    "check_region_code",
    "is_valid_region_code",
    "is_xian_district",
]

#: Province-level division codes (first two digits of a GB/T 2260 code), incl. Taiwan (71),
#: Hong Kong (81) and Macao (82).
PROVINCE_CODES: Final = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82",
    }
)  # fmt: skip

XIAN_CITY_CODE: Final = "610100"

#: Districts and counties of Xi'an (西安市) by GB/T 2260 code: (Chinese name, English name).
XIAN_DISTRICTS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "610102": ("新城区", "Xincheng"),
        "610103": ("碑林区", "Beilin"),
        "610104": ("莲湖区", "Lianhu"),
        "610111": ("灞桥区", "Baqiao"),
        "610112": ("未央区", "Weiyang"),
        "610113": ("雁塔区", "Yanta"),
        "610114": ("阎良区", "Yanliang"),
        "610115": ("临潼区", "Lintong"),
        "610116": ("长安区", "Chang'an"),
        "610117": ("高陵区", "Gaoling"),
        "610118": ("鄠邑区", "Huyi"),
        "610122": ("蓝田县", "Lantian (county)"),
        "610124": ("周至县", "Zhouzhi (county)"),
    }
)

_SIX_DIGITS = re.compile(r"[0-9]{6}")


def check_region_code(code: str) -> str:
    """Return ``code`` if it is a plausible GB/T 2260 region code: 6 digits, known province.

    The full table changes yearly (districts merge, counties become districts), so beyond the
    province only the shape is checked; use :data:`XIAN_DISTRICTS` for Xi'an specifics.
    """
    if not _SIX_DIGITS.fullmatch(code):
        raise InvalidIdentifier(
            "gbt2260_format", f"GB/T 2260 region code must be 6 digits, got {code!r}", code
        )
    if code[:2] not in PROVINCE_CODES:
        raise InvalidIdentifier(
            "gbt2260_province",
            f"GB/T 2260 region code {code!r}: {code[:2]!r} is not a province-level code",
            code,
        )
    return code


def is_valid_region_code(code: str) -> bool:
    """True if :func:`check_region_code` accepts ``code``."""
    try:
        check_region_code(code)
    except InvalidIdentifier:
        return False
    return True


def is_xian_district(code: str) -> bool:
    """True if ``code`` is one of the 13 districts and counties of Xi'an (610102-610124)."""
    return code in XIAN_DISTRICTS
