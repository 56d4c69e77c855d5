"""Messages: one per event type, with its Avro schema as payload, the CloudEvents headers, the
record key and the example event; and the records that are not events (dead letters, quarantined
records, the audit trail), described by the headers the bus adds.

The payload is the latest published version of the event (``schemas/avro/published``): every
earlier version is backward compatible with it, and the writer's version is named in
``ce_dataschema``. On the wire the value is the Avro single-object encoding (``C3 01`` + the
8-byte CRC-64-AVRO fingerprint + the binary body); fields tagged ``sensitivity`` carry a
placeholder and their values travel sealed in the ``exchange.sealed`` header.
"""

from __future__ import annotations

from typing import Any

from exchange.asyncapi.avro_datum import avro_datum
from exchange.asyncapi.servers import KAFKA_BINDING_VERSION
from exchange.codec import CONTENT_TYPE, SPECVERSION, dataschema_for
from exchange.examples import example_json
from exchange.models.registry import spec_for
from exchange.schemas.catalogue import Catalogue, SchemaVersion

AVRO_FORMAT = "application/vnd.apache.avro;version=1.9.0"
DEADLETTER = "DeadLetteredRecord"
QUARANTINED = "QuarantinedRecord"
AUDIT = "AuditRecord"
ANCHOR = "NotaryAnchor"

_TEXT: dict[str, Any] = {"type": "string"}


def message_id(event_type: str) -> str:
    """The id of an event's message: its Avro record name (``TransportSighting``)."""
    return event_type.rpartition(".")[2]


def cloudevents_headers(event_type: str, key_field: str) -> dict[str, Any]:
    """The record headers of an event: the CloudEvents Kafka binding (binary mode) plus the
    bus's signature and sealed-fields headers (JSON Schema of header name -> UTF-8 text)."""
    escaped = event_type.replace(".", "[.]")
    dataschema = rf"^urn:exchange:schema:{escaped}:v[1-9][0-9]*:[0-9a-f]{{16}}$"
    return {
        "type": "object",
        "required": [
            "ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject",
            "content-type", "ce_dataschema", "exchange.sig",
        ],
        "properties": {
            "ce_specversion": {"type": "string", "const": SPECVERSION},
            "ce_id": {**_TEXT, "description": "Unique per source; ce_source + ce_id is the "
                      "dedupe key (receivers drop copies)."},
            "ce_source": {**_TEXT, "description": "The publishing agency system, e.g. "
                          "/agencies/transport/staff-app."},
            "ce_type": {"type": "string", "const": event_type,
                        "description": "The Avro full name; no version (all are compatible)."},
            "ce_time": {"type": "string", "format": "date-time",
                        "description": "RFC 3339 with an offset."},
            "ce_subject": {**_TEXT, "description": f"The case key, equal to the record key "
                           f"({key_field})."},
            "content-type": {"type": "string", "const": CONTENT_TYPE},
            "ce_dataschema": {"type": "string", "pattern": dataschema,
                              "description": "The writer's published version and fingerprint: "
                              "schemas/avro/published/<type>/v<N>.avsc."},
            "exchange.sig": {**_TEXT, "description": "Ed25519 signature of the publishing "
                             "agency over key, value and the headers above; a record that "
                             "fails verification is quarantined, never acted on."},
            "exchange.sealed": {**_TEXT, "description": "The values of the fields tagged "
                                "`sensitivity`, AES-256-GCM, their keys wrapped for each reader "
                                "entitled to every tag of the field (absent when none)."},
        },
    }


def _example(version: SchemaVersion, name: str, key: str) -> dict[str, Any]:
    payload = avro_datum(version.schema, example_json(name))
    return {
        "name": f"example-{name}",
        "summary": (
            f"`exchange example {name}` (fictional data) as its Avro datum (times in epoch "
            f"milliseconds), shown before sealing; record key {key!r}."
        ),
        "headers": {
            "ce_specversion": SPECVERSION,
            "ce_id": "7d8a3c1e-2f40-4b8e-9a57-0c6e3b2d1f90",
            "ce_source": "/agencies/example/app",
            "ce_type": version.event_type,
            "ce_time": "2026-05-01T09:30:00+08:00",
            "ce_subject": key,
            "content-type": CONTENT_TYPE,
            "ce_dataschema": dataschema_for(version),
            "exchange.sig": "<signature>",
        },
        "payload": payload,
    }


def event_message(catalogue: Catalogue, event_type: str) -> dict[str, Any]:
    """The message object of one event type."""
    version = catalogue.latest(event_type)
    spec = spec_for(event_type)
    key_doc = f"The case key: `{spec.key_field}`" + (
        f", or `{spec.fallback_key_field}` when that is empty" if spec.fallback_key_field else ""
    )
    example = spec.model.model_validate(example_json(spec.name))
    doc = version.schema.get("doc", "")
    return {
        "name": message_id(event_type),
        "title": f"{message_id(event_type)} (v{version.version})",
        "summary": doc,
        "description": (
            f"`{event_type}`, published versions v1..v{version.version} (this payload is "
            f"v{version.version}; every earlier one is backward compatible). CLI name "
            f"`{spec.name}`. The value is Avro single-object encoded; fields tagged "
            "`sensitivity` carry a placeholder, their values travel sealed in `exchange.sealed`."
        ),
        "contentType": CONTENT_TYPE,
        "headers": cloudevents_headers(event_type, spec.key_field),
        "payload": {"schemaFormat": AVRO_FORMAT, "schema": version.schema},
        "correlationId": {
            "description": "The case key: one case's events share it and one partition.",
            "location": "$message.header#/ce_subject",
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"{key_doc}, UTF-8."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "examples": [_example(version, spec.name, spec.key(example))],
    }


def _error_headers(kind: str) -> dict[str, Any]:
    names = {
        "exchange.error.reason": f"Short code of why it was {kind} (see the documentation site).",
        "exchange.error.class": "The exception's class name.",
        "exchange.error.message": "The error text, at most 2 000 characters.",
        "exchange.original.topic": "Where the record was read.",
        "exchange.original.partition": "Its partition (decimal).",
        "exchange.original.offset": "Its offset (decimal).",
        "exchange.consumer.group": "The consumer group that set it aside.",
    }
    return {
        "type": "object",
        "description": "The original record's headers (CloudEvents, signature) plus these.",
        "required": ["exchange.error.reason", "exchange.original.topic"],
        "properties": {name: {**_TEXT, "description": doc} for name, doc in names.items()},
    }


def record_messages() -> dict[str, Any]:
    """The messages of topics that carry no event type of their own."""
    original = {
        "description": "The original record's value, unchanged (any bytes: it may not even be "
        "an event).",
    }
    return {
        DEADLETTER: {
            "name": DEADLETTER,
            "title": "A record a consumer could not process",
            "summary": "Copied unchanged (key, value, headers) with the error in headers.",
            "headers": _error_headers("dead-lettered"),
            "payload": original,
        },
        QUARANTINED: {
            "name": QUARANTINED,
            "title": "A record that failed verification",
            "summary": "Unsigned, forged, tampered, replayed or signed with a revoked key; "
            "copied unchanged with the reason in headers and never acted on.",
            "headers": _error_headers("quarantined"),
            "payload": original,
        },
        ANCHOR: {
            "name": ANCHOR,
            "title": "A notary anchor: audit checkpoints under one time-stamped Merkle root",
            "summary": "The checkpoints of the audit chains in an RFC 6962 Merkle tree, its root "
            "time-stamped by an RFC 3161 authority (openssl ts -verify checks the token).",
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "required": ["kind", "at", "size", "root", "tsa_url", "token", "checkpoints"],
                "properties": {
                    "kind": {"type": "string", "enum": ["anchor"]},
                    "at": {"type": "string", "format": "date-time"},
                    "size": {"type": "integer", "minimum": 1},
                    "root": {**_TEXT, "description": "hex of the Merkle root."},
                    "tsa_url": _TEXT,
                    "token": {**_TEXT, "description": "base64 DER TimeStampToken over root."},
                    "checkpoints": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
        AUDIT: {
            "name": AUDIT,
            "title": "One link of a hash-chained audit trail",
            "summary": "Who published, received or quarantined which event, and when.",
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "required": ["chain", "seq", "prev", "at", "agency", "action", "hash"],
                "properties": {
                    "chain": {**_TEXT, "description": "<agency>/<random id>, the record key."},
                    "seq": {"type": "integer", "minimum": 0},
                    "prev": {**_TEXT, "description": "hash of the previous record (64 zeros "
                             "for seq 0)."},
                    "at": {"type": "string", "format": "date-time"},
                    "agency": _TEXT,
                    "action": {"type": "string",
                               "enum": ["published", "delivered", "quarantined"]},
                    "topic": _TEXT,
                    "partition": {"type": "integer"},
                    "offset": {"type": "integer"},
                    "source": _TEXT,
                    "event_id": _TEXT,
                    "event_type": _TEXT,
                    "case": _TEXT,
                    "categories": {"type": "array", "items": _TEXT},
                    "detail": _TEXT,
                    "hash": {**_TEXT, "description": "SHA-256 of the canonical JSON without "
                             "hash."},
                },
            },
        },
    }
