"""OASIS CAP 1.2 (Common Alerting Protocol) documents: build, parse and validate.

The public alert workflow renders each step of a missing minor's alert as a CAP message
(:mod:`.build`); the CAP sink connector checks (:mod:`.validate`, against the official OASIS
``CAP-v1.2.xsd`` kept in this package) and delivers them; consumers and tests read them back
(:mod:`.parse`). :mod:`.common` holds what the three share.
"""

from exchange.cap.build import DEFAULT_SENDER_NAME, build_cap
from exchange.cap.common import (
    CAP_NS,
    CapBuildError,
    CapError,
    CapParseError,
    CapReference,
    cap_datetime,
    message_identifier,
)
from exchange.cap.parse import CapSummary, parse_cap
from exchange.cap.validate import validate_cap

__all__ = [
    "CAP_NS",
    "DEFAULT_SENDER_NAME",
    "CapBuildError",
    "CapError",
    "CapParseError",
    "CapReference",
    "CapSummary",
    "build_cap",
    "cap_datetime",
    "message_identifier",
    "parse_cap",
    "validate_cap",
]
