"""Times written for a person to read: Beijing time (Asia/Shanghai), with the zone named.

The people of Xi'an read Beijing time, whatever offset an event was reported in (a time read
back from Avro is in UTC): a child last seen at 16:40 Beijing time is "last seen 16:40", never
"08:40 (UTC-00:00)". Machine fields (RFC 3339 in events, CAP ``dateTime``, JSON output) keep
their standard form; this module is only for text. China has kept one offset, +08:00, without
daylight saving since 1991, so a fixed offset is exact and needs no time-zone database.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

__all__ = ["BEIJING", "ZONE_EN", "ZONE_ZH", "beijing", "human_time"]

#: Asia/Shanghai (China Standard Time, 北京时间).
BEIJING = timezone(timedelta(hours=8), "CST")
ZONE_EN = "Beijing time, UTC+08:00"
ZONE_ZH = "北京时间"


def beijing(when: datetime) -> datetime:
    """``when`` in Beijing time; a naive time is refused (it names no instant)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{when.isoformat()} has no UTC offset; it names no instant")
    return when.astimezone(BEIJING)


def human_time(when: datetime, *, language: str = "en", seconds: bool = False) -> str:
    """``2026-11-29 16:40 (Beijing time, UTC+08:00)``, or ``北京时间 2026-11-29 16:40``."""
    local = beijing(when)
    text = f"{local:%Y-%m-%d %H:%M:%S}" if seconds else f"{local:%Y-%m-%d %H:%M}"
    if language.lower().startswith("zh"):
        return f"{ZONE_ZH} {text}"
    return f"{text} ({ZONE_EN})"
