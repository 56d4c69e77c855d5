"""Errors of the wire codec.

::

    ExchangeError                           (exchange.errors)
    └── CodecError
        ├── EncodeError                     the event cannot be put on the wire
        └── DecodeError                     a record is not a valid event; ``.reason`` says why
            ├── NotSingleObjectError        reason "not-single-object"
            ├── UnknownFingerprintError     reason "unknown-fingerprint"
            └── MissingHeaderError          reason "missing-header"

``DecodeError.reason`` is a short machine-readable code, meant for dead-letter headers and metric
labels: ``tombstone``, ``not-single-object``, ``unknown-fingerprint``, ``avro-decode``,
``invalid-event``, ``type-mismatch``, ``missing-header``, ``invalid-header``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exchange.errors import ExchangeError


class CodecError(ExchangeError, ValueError):
    """Root of the codec's errors."""


class EncodeError(CodecError):
    """An event cannot be encoded (no published schema, or its data does not fit the schema)."""

    def __init__(self, event_type: str, problem: str) -> None:
        self.event_type = event_type
        self.problem = problem
        super().__init__(f"cannot encode {event_type}: {problem}")


class DecodeError(CodecError):
    """A record is not a valid event. Dead-letter it with ``reason``; never retry it."""

    def __init__(self, reason: str, message: str, *, errors: Sequence[dict[str, Any]] = ()) -> None:
        self.reason = reason
        #: pydantic's field errors (``loc``, ``msg``, ``type``) when reason is "invalid-event".
        self.errors = tuple(errors)
        super().__init__(f"[{reason}] {message}")


class NotSingleObjectError(DecodeError):
    """The value does not start with the Avro single-object marker ``C3 01`` + fingerprint."""

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix
        super().__init__(
            "not-single-object",
            f"value starts with {prefix.hex()!r}, not the Avro single-object marker c301 followed "
            "by an 8-byte fingerprint; the producer is not using the exchange wire format",
        )


class UnknownFingerprintError(DecodeError):
    """The writer schema's fingerprint is not in the catalogue."""

    def __init__(self, fingerprint: bytes) -> None:
        self.fingerprint = fingerprint
        super().__init__(
            "unknown-fingerprint",
            f"no published schema has fingerprint {fingerprint.hex()}; upgrade the package to a "
            "catalogue that includes the writer's schema",
        )


class MissingHeaderError(DecodeError):
    """A required CloudEvents header is absent or empty."""

    def __init__(self, header: str) -> None:
        self.header = header
        super().__init__(
            "missing-header",
            f"required CloudEvents header {header!r} is missing or empty "
            "(CloudEvents Kafka binding, binary mode)",
        )
