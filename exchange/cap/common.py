"""What the CAP builder, parser and validator share: the namespace, errors, dateTime, references."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Final, NamedTuple

from exchange.errors import ExchangeError

__all__ = [
    "CAP_NS",
    "CapBuildError",
    "CapError",
    "CapParseError",
    "CapReference",
    "cap_datetime",
    "message_identifier",
]

CAP_NS: Final = "urn:oasis:names:tc:emergency:cap:1.2"
Q: Final = f"{{{CAP_NS}}}"
FORBIDDEN_IN_ID: Final = re.compile(r"[\s,<&]")
LANGUAGE: Final = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
DATETIME: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[-+]\d{2}:\d{2}$")
NUMBER: Final = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"  # a decimal, as in circles and polygons


class CapError(ExchangeError, ValueError):
    """Root of the CAP errors."""


class CapBuildError(CapError):
    """An argument of :func:`~exchange.cap.build_cap` cannot make a valid CAP 1.2 message."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"CAP {field}: {problem}")


class CapParseError(CapError):
    """Not a CAP 1.2 alert that ``parse_cap`` can read; ``validate_cap`` says why."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"not a readable CAP 1.2 alert: {problem}")


class CapReference(NamedTuple):
    """An earlier message, as CAP's ``references`` names it: ``sender,identifier,sent``."""

    sender: str
    identifier: str
    sent: datetime

    def text(self) -> str:
        """The ``sender,identifier,sent`` triple."""
        return f"{self.sender},{self.identifier},{cap_datetime(self.sent)}"


def message_identifier(reference: str, sequence: int) -> str:
    """Identifier of message ``sequence`` (0 = the Alert) of the alert ``reference``."""
    return f"{reference}.{sequence}"


def cap_datetime(when: datetime) -> str:
    """CAP's dateTime: seconds, no fraction, explicit offset, UTC written as ``-00:00``."""
    offset = when.utcoffset()
    if offset is None:
        raise CapBuildError("dateTime", f"{when.isoformat()} is naive; give a UTC offset")
    if offset % timedelta(minutes=1):
        raise CapBuildError("dateTime", f"offset {offset} is not whole minutes")
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes > 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{when:%Y-%m-%dT%H:%M:%S}{sign}{hours:02d}:{mins:02d}"
