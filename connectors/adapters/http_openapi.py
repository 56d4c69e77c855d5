"""The OpenAPI 3.1 document of the HTTP ingest gateway, built from the event contracts.

Each event type an agency may publish gets ``POST /v1/events/{type}`` whose request body is the
event's JSON Schema (from its pydantic model, the same contract the codec enforces), so a
client generator or a schema-based fuzzer sees exactly what the gateway accepts.
"""

from __future__ import annotations

from typing import Any

from exchange.models.registry import EVENTS

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


def openapi_document(event_types: list[str]) -> dict[str, Any]:
    """The document for the given event types (CLI short names)."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {
        "Error": _FIELD_ERRORS, "Accepted": _ACCEPTED, "Unavailable": _UNAVAILABLE
    }
    for name in event_types:
        model = EVENTS[name].model
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
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
                            "type": "string", "minLength": 1, "maxLength": 200,
                            "pattern": "^[!-~]+$",
                        },
                        "description": "Retrying with the same key returns the first answer "
                        "and publishes nothing more (kept 24 h by default); after a 503, the "
                        "retry publishes with the same eventId, which receivers deduplicate.",
                    }
                ],
                "requestBody": {
                    "required": True,
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
                        "The body is not a JSON object, or the Idempotency-Key is not 1 to 200 "
                        "visible ASCII characters."
                    ),
                    "401": _error("No or unknown bearer token (or client certificate)."),
                    "403": _error("The agency may not publish this event type."),
                    "408": _error("The body did not arrive in time; the connection is closed."),
                    "413": _error("The body is too large."),
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
            "description": "Agency systems POST events as JSON; each caller is its agency.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
