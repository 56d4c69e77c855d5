"""The wire format: Avro single-object encoding in the value, CloudEvents binary-mode headers.

See :mod:`exchange.codec.codec` for the exact layout of a record.
"""

from exchange.codec.codec import (
    CONTENT_TYPE,
    SINGLE_OBJECT_MARKER,
    SPECVERSION,
    CloudEventAttributes,
    DecodedEvent,
    EncodedEvent,
    EventCodec,
    EventRegistry,
    EventSpecLike,
    RawEvent,
    ce_type_for,
    dataschema_for,
)
from exchange.codec.exceptions import (
    CodecError,
    DecodeError,
    EncodeError,
    KeyMismatchError,
    MissingHeaderError,
    NotSingleObjectError,
    UnknownFingerprintError,
)

__all__ = [
    "CONTENT_TYPE",
    "SINGLE_OBJECT_MARKER",
    "SPECVERSION",
    "CloudEventAttributes",
    "CodecError",
    "DecodeError",
    "DecodedEvent",
    "EncodeError",
    "EncodedEvent",
    "EventCodec",
    "EventRegistry",
    "EventSpecLike",
    "KeyMismatchError",
    "MissingHeaderError",
    "NotSingleObjectError",
    "RawEvent",
    "UnknownFingerprintError",
    "ce_type_for",
    "dataschema_for",
]
