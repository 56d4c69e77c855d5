"""The OpenAPI 3.1 document of the HTTP ingest gateway, built from the event contracts.

Each event type an agency may publish gets ``POST /v1/events/{type}`` whose request body is the
event's JSON Schema (from its pydantic model, the same contract the codec enforces), so a
client generator or a schema-based fuzzer sees exactly what the gateway accepts. The limits
(of every event, of reading JSON, and the gateway's own) are written from the constants that
enforce them: in ``info.description``, as ``info.x-limits`` (one object per limit: name,
appliesTo, value, bound, rule) and, for text, as ``maxLength`` of every string.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from connectors.adapters.http_gateway_config import MAX_IDEMPOTENCY_KEY, HttpGatewayConfig
from exchange.inputs import INPUT_LIMITS
from exchange.models.limits import EVENT_LIMITS, Limit, limits_sentence
from exchange.models.registry import EVENTS
from exchange.models.text_rules import MAX_TEXT

_DEFAULTS = HttpGatewayConfig.model_fields
DEFAULT_MAX_BODY_BYTES: int = _DEFAULTS["max_body_bytes"].default
DEFAULT_BODY_TIMEOUT_S: float = _DEFAULTS["body_timeout_s"].default


def gateway_limits(max_body_bytes: int, body_timeout_s: float) -> tuple[Limit, ...]:
    """The gateway's own limits (its configuration's values), with the error each answers."""
    return (
        Limit("body-bytes", "the request body", max_body_bytes,
              f"at most {max_body_bytes} bytes (else 413)", "too-large"),
        Limit("body-seconds", "the request body", body_timeout_s,
              f"received within {body_timeout_s:g} s (else 408, connection closed)",
              "body-timeout"),
        Limit("idempotency-key-length", "the Idempotency-Key header", MAX_IDEMPOTENCY_KEY,
              f"1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters (else 400)",
              "bad-idempotency-key"),
    )


class _TextLimited(GenerateJsonSchema):
    """JSON Schema in which every string states the text limit the models enforce."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        json_schema = super().str_schema(schema)
        json_schema["maxLength"] = min(json_schema.get("maxLength", MAX_TEXT), MAX_TEXT)
        return json_schema

_FIELD_ERRORS = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "Short code, e.g. invalid-event."},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "rule", "message"],
                "properties": {
                    "field": {"type": "string", "description": "Dotted path, e.g. location.lat"},
                    "rule": {"type": "string", "description": "e.g. gb11643_check_char"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
_ACCEPTED = {
    "type": "object",
    "required": ["eventId", "topic", "partition", "offset"],
    "properties": {
        "eventId": {"type": "string", "description": "The event's ce_id."},
        "topic": {"type": "string"},
        "partition": {"type": "integer"},
        "offset": {"type": "integer"},
        "duplicate": {"type": "boolean", "description": "True: an earlier request's answer."},
    },
}


_UNAVAILABLE = {
    "allOf": [
        {"$ref": "#/components/schemas/Error"},
        {
            "type": "object",
            "required": ["eventId", "idempotencyKey"],
            "properties": {
                "eventId": {
                    "type": "string",
                    "description": "The ce_id the event has if it still reaches the bus.",
                },
                "idempotencyKey": {
                    "type": "string",
                    "description": "Send it as Idempotency-Key with the same body to retry.",
                },
            },
        },
    ]
}
_RETRY_HEADERS = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."},
    "Idempotency-Key": {
        "schema": {"type": "string"},
        "description": "The key the retry must send (the caller's, or one the gateway made).",
    },
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def openapi_document(
    event_types: list[str], *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S,
) -> dict[str, Any]:
    """The document for the given event types (CLI short names) and the gateway's limits."""
    limits = (*EVENT_LIMITS, *INPUT_LIMITS, *gateway_limits(max_body_bytes, body_timeout_s))
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {
        "Error": _FIELD_ERRORS, "Accepted": _ACCEPTED, "Unavailable": _UNAVAILABLE
    }
    for name in event_types:
        model = EVENTS[name].model
        schema = model.model_json_schema(
            ref_template="#/components/schemas/{model}", schema_generator=_TextLimited
        )
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        paths[f"/v1/events/{name}"] = {
            "post": {
                "operationId": f"publish_{name.replace('-', '_')}",
                "summary": f"Publish a {name} event as the calling agency",
                "security": [{"bearer": []}],
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {
                            "type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY,
                            "pattern": "^[!-~]+$",
                        },
                        "description": "Retrying with the same key returns the first answer "
                        "and publishes nothing more (kept 24 h by default); after a 503, the "
                        "retry publishes with the same eventId, which receivers deduplicate.",
                    }
                ],
                "requestBody": {
                    "required": True,
                    "description": f"The event as JSON (at most {max_body_bytes} bytes; the "
                    "event itself within the limits of info.x-limits).",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                        }
                    },
                },
                "responses": {
                    "202": {
                        "description": "Accepted: the broker has the event.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Accepted"}
                            }
                        },
                    },
                    "400": _error(
                        "The body is not a JSON object, or the Idempotency-Key is not 1 to "
                        f"{MAX_IDEMPOTENCY_KEY} visible ASCII characters."
                    ),
                    "401": _error("No or unknown bearer token (or client certificate)."),
                    "403": _error("The agency may not publish this event type."),
                    "408": _error(
                        f"The body did not arrive within {body_timeout_s:g} s; the connection "
                        "is closed."
                    ),
                    "413": _error(f"The body is larger than {max_body_bytes} bytes."),
                    "415": _error("The body is not application/json."),
                    "422": _error(
                        "The event breaks its contract (JSON nested too deep included); "
                        "errors name each field."
                    ),
                    "503": {
                        "description": "The bus did not acknowledge in time. Not 'not sent': "
                        "the event may still reach the bus. Retry after Retry-After seconds "
                        "with the same body and the Idempotency-Key given here; a copy keeps "
                        "eventId and receivers drop it.",
                        "headers": _RETRY_HEADERS,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Unavailable"}
                            }
                        },
                    },
                },
            }
        }
    paths["/healthz"] = {
        "get": {
            "operationId": "health",
            "summary": "Ready when every caller's agency has credentials and the bus answers",
            "responses": {
                "200": {"description": "ready"},
                "503": {"description": "not-ready; problems lists each reason"},
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Xi'an exchange bus: HTTP ingest gateway",
            "version": "1",
            "description": "Agency systems POST events as JSON; each caller is its agency. "
            + limits_sentence(limits),
            "x-limits": [limit.as_json() for limit in limits],
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }

