"""The protected codec: seal + sign on the way out, verify + open on the way in.

:class:`ProtectedCodec` wraps :class:`exchange.codec.EventCodec` for one agency. The record it
produces is an ordinary exchange record (single-object Avro value, CloudEvents headers) plus
``exchange.sealed`` (:mod:`.envelope`) and ``exchange.sig`` (:mod:`.signing`). Reading, it
verifies the signature *before* decoding anything, refuses replays, opens the groups the agency
is entitled to and validates the event:

- every value the agency may read is back in the event, as sent;
- every other sealed path keeps its placeholder and is listed in :attr:`OpenedEvent.protected`
  (:meth:`OpenedEvent.view` shows ``"<protected>"`` there). When placeholders break the
  model's own rules (a required name, a check digit across fields), the event is built without
  validation of those parts rather than refused: the clear part was validated by the producer
  and is covered by the signature.

To protect a consumer (the workflows' decode path included), replace ``codec.decode(value,
headers)`` by ``protected.decode(key, value, headers, (topic, partition, offset))`` and send a
:class:`~exchange.protection.exceptions.VerificationError` to quarantine (see
:mod:`exchange.client.consumer`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from exchange.codec import DecodedEvent, EncodedEvent, EventCodec
from exchange.codec.codec import new_event_id
from exchange.protection.entitlements import Entitlements
from exchange.protection.envelope import SEALED_HEADER, Opened, Opener, Sealer
from exchange.protection.fields import SealPlan, plan_for, put
from exchange.protection.keys import KeyStore
from exchange.protection.signing import Position, Signer, Verifier
from exchange.schemas.catalogue import SchemaVersion

PROTECTED = "<protected>"


@dataclass(frozen=True)
class OpenedEvent:
    """A verified event as one agency sees it."""

    decoded: DecodedEvent
    signer: str
    opened: Opened

    @property
    def protected(self) -> tuple[str, ...]:
        return self.opened.protected

    def view(self) -> dict[str, Any]:
        """The event as JSON-able data, ``"<protected>"`` at every path not opened."""
        data = self.decoded.event.model_dump(mode="json", warnings=False)
        for path in self.opened.protected:
            put(data, path, PROTECTED)
        return data


def event_key(source: str, event_id: str, event_type: str) -> bytes:
    """What binds a sealed value to its event (associated data of every ciphertext)."""
    return f"{source}\x00{event_id}\x00{event_type}".encode()


class ProtectedCodec:
    """Seal, sign, verify and open events as ``agency`` (see the module docs)."""

    def __init__(
        self,
        codec: EventCodec,
        keys: KeyStore,
        entitlements: Entitlements,
        *,
        agency: str,
        verifier: Verifier | None = None,
    ) -> None:
        self.codec = codec
        self.keys = keys
        self.entitlements = entitlements
        self.agency = agency
        self.sealer = Sealer(keys, agency)
        self.opener = Opener(keys, agency)
        self.verifier = verifier if verifier is not None else Verifier(keys)
        self._signer: Signer | None = None
        self._plans: dict[bytes, SealPlan] = {}
        self._recipients: dict[tuple[tuple[str, ...], frozenset[str]], tuple[str, ...]] = {}

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            self._signer = Signer(self.keys, self.agency)
        return self._signer

    def plan(self, version: SchemaVersion) -> SealPlan:
        found = self._plans.get(version.fingerprint)
        if found is None:
            found = self._plans[version.fingerprint] = plan_for(version.schema)
        return found

    def encode(
        self,
        event: BaseModel,
        *,
        source: str,
        readers: Iterable[str],
        id: str | None = None,
        time: datetime | None = None,
    ) -> EncodedEvent:
        """Encode ``event`` with its sensitive values sealed for the entitled ``readers``."""
        encoded = self.seal(event, source=source, readers=tuple(readers), id=id, time=time)
        encoded.headers.append(self.signer.header(encoded.key, encoded.value, encoded.headers))
        return encoded

    def encode_batch(
        self,
        events: Sequence[BaseModel],
        *,
        source: str,
        readers: Iterable[str],
        ids: Sequence[str | None] | None = None,
        time: datetime | None = None,
    ) -> list[EncodedEvent]:
        """Encode many events for the same ``readers``: each is sealed as by :meth:`encode`
        (fresh data keys per event), then all are signed with one batch signature, each
        carrying its own audit path (:mod:`.signing`), so each verifies alone. ``ids``: one
        ``ce_id`` (or None: a fresh one) per event."""
        if ids is not None and len(ids) != len(events):
            raise ValueError(f"{len(ids)} ids for {len(events)} events")
        if not events:
            return []
        reader_list = tuple(readers)
        encoded = [
            self.seal(
                event,
                source=source,
                readers=reader_list,
                id=None if ids is None else ids[i],
                time=time,
            )
            for i, event in enumerate(events)
        ]
        signatures = self.signer.headers([(e.key, e.value, e.headers) for e in encoded])
        for one, signature in zip(encoded, signatures, strict=True):
            one.headers.append(signature)
        return encoded

    def seal(
        self,
        event: BaseModel,
        *,
        source: str,
        readers: tuple[str, ...],
        id: str | None = None,
        time: datetime | None = None,
    ) -> EncodedEvent:
        """Encode ``event`` sealed for ``readers``, not yet signed (:meth:`encode` signs)."""
        event_id = id if id is not None else new_event_id()
        sealed: list[bytes] = []

        def recipients(tags: frozenset[str]) -> tuple[str, ...]:
            found = self._recipients.get((readers, tags))
            if found is None:
                found = self.entitlements.recipients(readers, tags)
                self._recipients[(readers, tags)] = found
            return found

        def prepare(data: dict[str, Any], version: SchemaVersion) -> None:
            header = self.sealer.seal(
                data,
                self.plan(version),
                event_key(source, event_id, version.event_type),
                recipients,
            )
            if header is not None:
                sealed.append(header)

        encoded = self.codec.encode(event, source=source, id=event_id, time=time, prepare=prepare)
        if sealed:
            encoded.headers.append((SEALED_HEADER, sealed[0]))
        return encoded

    def decode(
        self,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
        position: Position,
    ) -> OpenedEvent:
        """Verify, open and validate one record read at ``position``.

        Raises :class:`~exchange.protection.exceptions.VerificationError` (quarantine it) or
        :class:`~exchange.codec.exceptions.DecodeError` (dead-letter it).
        """
        signer = self.verifier.verify(key, value, headers, position)
        raw = self.codec.read(value, headers)
        header = dict(headers).get(SEALED_HEADER)
        attributes = raw.attributes
        if header is None:
            opened = Opened((), (), frozenset())
        else:
            opened = self.opener.open(
                header,
                raw.record,
                event_key(attributes.source, attributes.id, raw.writer.event_type),
                signer,
            )
        if not opened.protected:
            decoded = self.codec.validate(raw, raw.record)
        else:
            try:  # placeholders may break the model's rules: then built without validation
                event = raw.model.model_validate(raw.record)
            except ValidationError:
                event = construct(raw.model, raw.record)
            decoded = DecodedEvent(event, attributes, raw.writer, raw.reader)
        self.codec.check_key(decoded, key)  # a verified record may still be keyed wrong
        return OpenedEvent(decoded, signer, opened)


def construct(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """``model_construct`` all the way down (nested models and lists of them), no validation."""
    values: dict[str, Any] = {}
    for name, alias, convert in _fields_of(model):
        if alias in data:
            found = data[alias]
        elif name in data:
            found = data[name]
        else:
            continue
        values[name] = found if convert is None else convert(found)
    return model.model_construct(**values)


Converter = Callable[[Any], Any]
_FIELDS: dict[type[BaseModel], tuple[tuple[str, str, Converter | None], ...]] = {}


def _fields_of(model: type[BaseModel]) -> tuple[tuple[str, str, Converter | None], ...]:
    """Per field of ``model``: name, alias and how to construct its value (None: as it is);
    worked out once per model, not per event."""
    found = _FIELDS.get(model)
    if found is None:
        found = _FIELDS[model] = tuple(
            (name, field.alias or name, _converter(field.annotation))
            for name, field in model.model_fields.items()
        )
    return found


def _converter(annotation: Any) -> Converter | None:
    """What :func:`construct` does to a value of ``annotation``: a nested model (or one of a
    Union's) from a dict, a list of them from a list, an enum member (or an Optional one's) from
    its value, so that readers get the types the model declares; None when the value stays as
    it is."""
    members = next((arg for arg in (annotation, *get_args(annotation)) if _is_enum(arg)), None)
    if members is not None:
        def member(value: Any) -> Any:
            try:
                return members(value) if value is not None else None
            except ValueError:  # a placeholder that names no member: as it is
                return value
        return member
    model = annotation if _is_model(annotation) else None
    origin, args = get_origin(annotation), get_args(annotation)
    item = _converter(args[0]) if origin in (list, tuple) and args else None
    union_model = next((arg for arg in args if _is_model(arg)), None)  # Optional[X] / Union
    if model is None and item is None and union_model is None:
        return None

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if model is not None and isinstance(value, dict):
            return construct(model, value)
        if origin in (list, tuple) and isinstance(value, list):
            return value if item is None else [item(one) for one in value]
        if union_model is not None and isinstance(value, dict):
            return construct(union_model, value)
        return value

    return convert


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_enum(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, enum.Enum)
