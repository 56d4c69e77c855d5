"""Shared by the CAP tests: fixed times and sender, and one-call builders of (broken) alerts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Final

from exchange.cap import CAP_NS, build_cap, message_identifier
from exchange.rules.public_alert import PublicAlert

CST: Final = timezone(timedelta(hours=8))
SENT: Final = datetime(2026, 11, 29, 8, 30, tzinfo=CST)
SENDER: Final = "tuanyuan.police.xian.example"
Q: Final = f"{{{CAP_NS}}}"


def build(alert: PublicAlert, **overrides: Any) -> str:
    """The Alert (100 km, sent at SENT, expiring a day later) with ``overrides`` applied."""
    args: dict[str, Any] = {
        "identifier": message_identifier(alert.reference, 0), "sender": SENDER, "sent": SENT,
        "msg_type": "Alert", "radius_km": 100, "expires": SENT + timedelta(hours=24),
    }  # fmt: skip
    args.update(overrides)
    return build_cap(alert, **args)


def broken(alert: PublicAlert, old: str, new: str) -> str:
    """The default Alert with the first ``old`` replaced by ``new`` (``old`` must be there)."""
    xml = build(alert)
    assert old in xml
    return xml.replace(old, new, 1)
