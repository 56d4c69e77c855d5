"""The HTTP gateway's configuration, and what a request must be before it may reach the bus.

Checked here, in this order, each with one answer that says what to fix: the caller's
credentials (the ``Authorization`` scheme name is case-insensitive, RFC 7235), the body's
``Content-Type`` (``application/json`` or a ``+json`` type, else 415) and the
``Idempotency-Key`` (1 to 200 visible ASCII characters, as the OpenAPI document says, else 400).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.sdk.config import ConnectorConfig
from exchange.client.identity import source_problem
from exchange.inputs import MAX_DOCUMENT_BYTES
from exchange.models.registry import EVENTS

MAX_IDEMPOTENCY_KEY = 200
"""Longest ``Idempotency-Key`` accepted (also stated in the OpenAPI document)."""


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: str = Field(description="Agency id the caller publishes as.")
    token_sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 (hex) of the caller's token."
    )
    certificate_cn: str | None = Field(None, description="Client certificate subject CN (mTLS).")
    source: str | None = Field(None, description="ce_source; default /agencies/<agency>/http.")

    @model_validator(mode="after")
    def _source_is_the_agencys(self) -> Caller:
        if self.source is not None and (problem := source_problem(self.agency, self.source)):
            raise ValueError(f"source: {problem}")
        return self


class TlsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    certfile: Path
    keyfile: Path
    client_cafile: Path | None = Field(None, description="CAs of client certificates (mTLS).")


class HttpGatewayConfig(ConnectorConfig):
    kind: Literal["http-gateway"] = "http-gateway"
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535, description="0: any free port.")
    callers: tuple[Caller, ...] = Field(min_length=1)
    event_types: tuple[str, ...] = Field(
        tuple(EVENTS), description="Event types accepted (CLI short names)."
    )
    max_body_bytes: int = Field(MAX_DOCUMENT_BYTES, gt=0, description="Larger bodies: 413.")
    body_timeout_s: float = Field(
        10.0, gt=0, description="A body not received within this time: 408, connection closed."
    )
    keepalive_timeout_s: float = Field(
        15.0, gt=0,
        description="A connection that is idle, or whose request headers do not arrive, is "
        "closed after this time.",
    )
    publish_timeout_s: float = Field(10.0, gt=0)
    health_timeout_s: float = Field(3.0, gt=0, description="Limit of the health probe of the bus.")
    idempotency_ttl_s: float = Field(86_400.0, gt=0)
    tls: TlsConfig | None = Field(
        None, description="The server certificate; none: one issued by the local CA."
    )
    insecure_plain_http: bool = Field(
        False, description="INSECURE, for debugging: serve plain HTTP (warns at every start)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> HttpGatewayConfig:
        unknown = [name for name in self.event_types if name not in EVENTS]
        if unknown:
            raise ValueError(f"event_types: unknown {unknown}; known: {list(EVENTS)}")
        for index, caller in enumerate(self.callers):
            if not caller.token_sha256 and not caller.certificate_cn:
                raise ValueError(f"callers.{index}: give token_sha256 or certificate_cn")
            if caller.certificate_cn and not (self.tls and self.tls.client_cafile):
                raise ValueError(f"callers.{index}: certificate_cn needs tls.client_cafile")
        if self.insecure_plain_http and self.tls is not None:
            raise ValueError("insecure_plain_http: remove it, or remove the [tls] table")
        return self


def token_digest(token: str) -> str:
    """What goes in ``token_sha256`` for a token: the SHA-256 of its UTF-8 bytes. A header
    that is not UTF-8 reaches here with its bytes as surrogate escapes (aiohttp): they are
    hashed as sent, so such a token is simply unknown (401), never an encoding error."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (any case of ``Bearer``)."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def is_json(content_type: str) -> bool:
    """Whether a request's media type (parameters removed) is JSON."""
    media = content_type.lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith(
        "+json"
    ))


def idempotency_key_problem(key: str) -> str | None:
    """Why ``key`` is no acceptable ``Idempotency-Key`` (None: it is)."""
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        return f"Idempotency-Key: 1 to {MAX_IDEMPOTENCY_KEY} characters (got {len(key)})"
    if not all(" " < c <= "~" for c in key):
        return "Idempotency-Key: visible ASCII characters only"
    return None
