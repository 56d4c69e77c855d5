"""The wire format of the exchange: Avro single-object encoding + CloudEvents Kafka headers.

A Kafka record carrying an event is:

- **value**: ``C3 01`` + the 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema's
  Parsing Canonical Form + the Avro binary body (the Avro specification's single-object encoding;
  Java's ``BinaryMessageDecoder`` and fastavro with the schema read it without a registry);
- **key**: the case key of the event (``EventSpec.key(event)``, UTF-8), so one case's events
  stay in order on one partition;
- **headers**: the CloudEvents Kafka protocol binding, binary content mode
  (:mod:`exchange.codec.cloudevents`).

Decoding reads the writer's version (found by fingerprint) with the latest version of the same
event as reader schema (Avro schema resolution) and validates the result into the event's
pydantic model. Every failure is a :class:`~exchange.codec.exceptions.DecodeError` whose
``reason`` says what to put in a dead-letter header.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import Any, NamedTuple, Protocol

from fastavro import schemaless_reader, schemaless_writer
from pydantic import BaseModel, ValidationError

from exchange.codec.cloudevents import (
    CONTENT_TYPE,
    SPECVERSION,
    CloudEventAttributes,
    ce_type_for,
    new_event_id,
    parse_attributes,
    rfc3339,
)
from exchange.codec.exceptions import (
    DecodeError,
    EncodeError,
    KeyMismatchError,
    MissingHeaderError,
    NotSingleObjectError,
    UnknownFingerprintError,
)
from exchange.codec.unions import union_hinter
from exchange.errors import ExchangeError
from exchange.models import registry as models_registry
from exchange.schemas.catalogue import Catalogue, SchemaVersion
from exchange.schemas.exceptions import UnknownSchemaError

__all__ = [
    "CONTENT_TYPE",
    "SINGLE_OBJECT_MARKER",
    "SPECVERSION",
    "CloudEventAttributes",
    "DecodedEvent",
    "EncodedEvent",
    "EventCodec",
    "EventRegistry",
    "EventSpecLike",
    "RawEvent",
    "ce_type_for",
    "dataschema_for",
    "new_event_id",
]

SINGLE_OBJECT_MARKER = b"\xc3\x01"
HEADER_LENGTH = 10  # marker + 8-byte fingerprint


class EventSpecLike(Protocol):
    """What the codec needs of ``exchange.models.registry.EventSpec``."""

    @property
    def fullname(self) -> str: ...
    @property
    def model(self) -> type[BaseModel]: ...
    def key(self, event: Any, /) -> str: ...


class EventRegistry(Protocol):
    """What the codec needs of ``exchange.models.registry`` (a module satisfies it)."""

    def spec_for(self, name_or_fullname: str, /) -> EventSpecLike: ...
    def spec_for_model(self, model_cls: type[BaseModel], /) -> EventSpecLike: ...


class EncodedEvent(NamedTuple):
    """A record ready for a Kafka producer."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    attributes: CloudEventAttributes


class RawEvent(NamedTuple):
    """A record's Avro body read into a dict (reader schema applied), not yet validated."""

    record: Any
    attributes: CloudEventAttributes
    writer: SchemaVersion
    reader: SchemaVersion
    model: type[BaseModel]


class DecodedEvent(NamedTuple):
    """An event read from a record: ``writer`` wrote it, ``reader`` (latest) was used to read it."""

    event: BaseModel
    attributes: CloudEventAttributes
    writer: SchemaVersion
    reader: SchemaVersion


def dataschema_for(version: SchemaVersion) -> str:
    """The ``ce_dataschema`` URI naming a published version and its fingerprint."""
    fingerprint = version.fingerprint.hex()
    return f"urn:exchange:schema:{version.event_type}:v{version.version}:{fingerprint}"


@dataclass(frozen=True, slots=True)
class _Writer:
    """Everything encode needs for one model class, computed once."""

    spec: EventSpecLike
    version: SchemaVersion
    parsed: Any
    hinter: Callable[[Any], Any] | None
    prefix: bytes
    ce_type: str
    type_header: bytes
    dataschema: str
    dataschema_header: bytes


@dataclass(frozen=True, slots=True)
class _Reader:
    """Everything decode needs for one writer fingerprint, computed once."""

    writer: SchemaVersion
    reader: SchemaVersion
    writer_parsed: Any
    reader_parsed: Any  # None when writer is the latest version: no resolution needed
    model: type[BaseModel]
    ce_type: str
    type_header: bytes
    dataschema: str


_SPECVERSION_HEADER = SPECVERSION.encode()
_CONTENT_TYPE_HEADER = CONTENT_TYPE.encode()


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    # Field, rule and message only: pydantic's "input" would copy personal data into
    # dead-letter headers and logs.
    return [
        {
            "field": ".".join(str(part) for part in error["loc"]),
            "rule": error["type"],
            "message": error["msg"],
        }
        for error in exc.errors(include_url=False)
    ]


def _default_registry() -> EventRegistry:
    registry: EventRegistry = models_registry
    return registry


class EventCodec:
    """Encode events to Kafka records and decode them back, against a :class:`Catalogue`.

    ``registry`` maps event types to pydantic models and case keys; it defaults to
    ``exchange.models.registry``. Thread-safe for reading; caches are filled on first use.
    """

    def __init__(self, catalogue: Catalogue, *, registry: EventRegistry | None = None) -> None:
        self.catalogue = catalogue
        self._registry: EventRegistry = registry if registry is not None else _default_registry()
        self._writers: dict[type[BaseModel], _Writer] = {}
        self._readers: dict[bytes, _Reader] = {}
        self._sources: dict[str, bytes] = {}

    # -- encode ---------------------------------------------------------------------------

    def _writer_for(self, model_cls: type[BaseModel]) -> _Writer:
        try:
            spec = self._registry.spec_for_model(model_cls)
        except (LookupError, ValueError, TypeError, ExchangeError) as exc:
            raise EncodeError(model_cls.__name__, f"not an event model ({exc})") from exc
        try:
            version = self.catalogue.latest(spec.fullname)
        except UnknownSchemaError as exc:
            raise EncodeError(
                spec.fullname, "no published schema version; run `exchange schemas freeze`"
            ) from exc
        ce_type = ce_type_for(version.event_type)
        dataschema = dataschema_for(version)
        writer = _Writer(
            spec=spec,
            version=version,
            parsed=version.parsed,
            hinter=union_hinter(version.schema),
            prefix=SINGLE_OBJECT_MARKER + version.fingerprint,
            ce_type=ce_type,
            type_header=ce_type.encode(),
            dataschema=dataschema,
            dataschema_header=dataschema.encode(),
        )
        self._writers[model_cls] = writer
        return writer

    def encode(
        self,
        event: BaseModel,
        *,
        source: str,
        id: str | None = None,
        time: datetime | None = None,
        prepare: Callable[[dict[str, Any], SchemaVersion], None] | None = None,
    ) -> EncodedEvent:
        """Encode ``event`` with the latest published version of its schema.

        ``prepare`` may change the dumped data in place before it is written (the protection
        layer replaces sensitive values by placeholders there, see ``exchange.protection``).
        """
        writer = self._writers.get(type(event)) or self._writer_for(type(event))
        source_header = self._sources.get(source)
        if source_header is None:
            if not source:
                raise EncodeError(writer.version.event_type, "ce_source must not be empty")
            source_header = self._sources[source] = source.encode()
        if time is None:
            time = datetime.now(UTC)
        elif time.tzinfo is None:
            raise EncodeError(writer.version.event_type, "time must be timezone-aware")
        event_id = id if id is not None else new_event_id()
        if not event_id:
            raise EncodeError(writer.version.event_type, "ce_id must not be empty")
        subject = writer.spec.key(event)
        key = subject.encode()
        time_text = rfc3339(time)

        buffer = BytesIO()
        buffer.write(writer.prefix)
        data = event.__pydantic_serializer__.to_python(event, warnings=False)
        if prepare is not None:
            prepare(data, writer.version)  # its own errors are its own, not EncodeError
        try:
            if writer.hinter is not None:
                data = writer.hinter(data)
            schemaless_writer(buffer, writer.parsed, data)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise EncodeError(
                writer.version.event_type, f"data does not fit {writer.version.label}: {exc}"
            ) from exc

        headers = [
            ("ce_specversion", _SPECVERSION_HEADER),
            ("ce_id", event_id.encode()),
            ("ce_source", source_header),
            ("ce_type", writer.type_header),
            ("ce_time", time_text.encode()),
            ("ce_subject", key),
            ("content-type", _CONTENT_TYPE_HEADER),
            ("ce_dataschema", writer.dataschema_header),
        ]
        attributes = CloudEventAttributes(
            event_id,
            source,
            writer.ce_type,
            time,
            subject,
            writer.dataschema,
            CONTENT_TYPE,
            SPECVERSION,
        )
        return EncodedEvent(key, buffer.getvalue(), headers, attributes)

    # -- decode ---------------------------------------------------------------------------

    def _reader_for(self, fingerprint: bytes) -> _Reader:
        try:
            writer = self.catalogue.by_fingerprint(fingerprint)
        except UnknownSchemaError:
            raise UnknownFingerprintError(fingerprint) from None
        reader = self.catalogue.latest(writer.event_type)
        try:
            model = self._registry.spec_for(writer.event_type).model
        except (LookupError, ValueError, TypeError, ExchangeError) as exc:
            raise DecodeError(
                "unknown-fingerprint",
                f"{writer.label} has no pydantic model in the registry ({exc})",
            ) from exc
        ce_type = ce_type_for(writer.event_type)
        entry = _Reader(
            writer=writer,
            reader=reader,
            writer_parsed=writer.parsed,
            reader_parsed=None if reader.fingerprint == writer.fingerprint else reader.parsed,
            model=model,
            ce_type=ce_type,
            type_header=ce_type.encode(),
            dataschema=dataschema_for(writer),
        )
        self._readers[fingerprint] = entry
        return entry

    def decode(self, value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> DecodedEvent:
        """Decode a record's value and headers; raises a :class:`DecodeError` subclass."""
        raw = self.read(value, headers)
        return self.validate(raw, raw.record)

    def decode_record(
        self, key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> DecodedEvent:
        """Decode a whole record: :meth:`decode`, then :meth:`check_key`. Every consumer uses
        this (a key it does not check would put a case's state in the wrong partition)."""
        decoded = self.decode(value, headers)
        self.check_key(decoded, key)
        return decoded

    def check_key(self, decoded: DecodedEvent, key: bytes | None) -> None:
        """Raise :class:`KeyMismatchError` unless ``key`` (and ``ce_subject``, when given) is
        the event's case key, UTF-8."""
        event = decoded.event
        spec = self._registry.spec_for_model(type(event))
        field = getattr(spec, "key_field", "key")
        try:
            expected = spec.key(event)
        except ValueError:
            expected = ""
        # bytes, not text: a key that is not UTF-8 decoded "with replacement" could equal a
        # case key holding U+FFFD, yet hash to another partition than that key's UTF-8 bytes
        if key is None or key != expected.encode() or not expected:
            raise KeyMismatchError(decoded.attributes.type, field, expected, key)
        subject = decoded.attributes.subject
        if subject is not None and subject != expected:
            raise KeyMismatchError(
                decoded.attributes.type, field, expected, subject.encode(), "ce_subject"
            )

    def read(self, value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> RawEvent:
        """Check the headers and read the Avro body into a dict, without validating it."""
        if not value:
            raise DecodeError("tombstone", "the record has no value; a tombstone is not an event")
        if len(value) < HEADER_LENGTH or value[:2] != SINGLE_OBJECT_MARKER:
            raise NotSingleObjectError(bytes(value[:HEADER_LENGTH]))
        fingerprint = bytes(value[2:HEADER_LENGTH])
        entry = self._readers.get(fingerprint) or self._reader_for(fingerprint)

        found = dict(headers)
        type_header = found.get("ce_type")
        if not type_header:
            raise MissingHeaderError("ce_type")
        if type_header != entry.type_header:
            raise DecodeError(
                "type-mismatch",
                f"ce_type {type_header!r} but the value was written with {entry.writer.label}",
            )
        attributes = parse_attributes(found, entry.ce_type, entry.dataschema)

        buffer = BytesIO(value)
        buffer.seek(HEADER_LENGTH)
        try:
            record = schemaless_reader(buffer, entry.writer_parsed, entry.reader_parsed)
        except Exception as exc:
            raise DecodeError(
                "avro-decode", f"body is not valid Avro for {entry.writer.label}: {exc!r}"
            ) from exc
        if buffer.tell() != len(value):
            raise DecodeError(
                "avro-decode",
                f"{len(value) - buffer.tell()} bytes left after the {entry.writer.label} body",
            )
        return RawEvent(record, attributes, entry.writer, entry.reader, entry.model)

    @staticmethod
    def validate(raw: RawEvent, record: Any) -> DecodedEvent:
        """Validate a record read by :meth:`read` into its pydantic model."""
        try:
            event = raw.model.__pydantic_validator__.validate_python(record)
        except ValidationError as exc:
            errors = _field_errors(exc)
            summary = "; ".join(f"{e['field']}: {e['message']} [{e['rule']}]" for e in errors)
            raise DecodeError("invalid-event", summary, errors=errors) from exc
        return DecodedEvent(event, raw.attributes, raw.writer, raw.reader)

