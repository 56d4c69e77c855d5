"""Errors of the wire codec.

::

    ExchangeError                           (exchange.errors)
    └── CodecError
        ├── EncodeError                     the event cannot be put on the wire
        └── DecodeError                     a record is not a valid event; ``.reason`` says why
            ├── NotSingleObjectError        reason "not-single-object"
            ├── UnknownFingerprintError     reason "unknown-fingerprint"
            ├── MissingHeaderError          reason "missing-header"
            └── KeyMismatchError            reason "key-mismatch"

``DecodeError.reason`` is a short machine-readable code, meant for dead-letter headers and metric
labels: ``tombstone``, ``not-single-object``, ``unknown-fingerprint``, ``avro-decode``,
``invalid-event``, ``type-mismatch``, ``missing-header``, ``invalid-header``, ``key-mismatch``.
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


class KeyMismatchError(DecodeError):
    """The record's Kafka key (or its ``ce_subject``) is not the event's case key.

    Every stateful workflow keeps a case's state in the partition of the case key; a record
    keyed otherwise (a wrong key, or a null key as Java producers and Kafka Connect send by
    default) would put its state where the case's later events never look. Such a record is
    refused, never re-keyed: the producer must be fixed, and the dead letter says how.
    """

    def __init__(self, event_type: str, field: str, expected: str, got: bytes | None,
                 what: str = "record key") -> None:
        self.event_type = event_type
        self.field = field
        self.expected = expected
        self.got = got
        shown = "null" if got is None else repr(got.decode("utf-8", errors="replace")[:80])
        super().__init__(
            "key-mismatch",
            f"{what} is {shown} but a {event_type} must be keyed by its case key "
            f"{field} = {expected!r}; produce it with that key (UTF-8)",
        )
