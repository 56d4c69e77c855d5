"""Settings of the evidence layer (``EXCHANGE_AUDIT__...``, ``EXCHANGE_NOTARY__...``); frozen
models that the CLI and process entry points fill, never read from the environment here."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class FailClosedPolicy(BaseModel):
    """When a publisher refuses new events; the defaults' reasons are in
    :mod:`exchange.evidence.guard`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    max_unwritten_seconds: float = Field(60.0, gt=0)
    max_unanchored_seconds: float = Field(4 * 3600.0, gt=0)


class AuditSettings(BaseModel):
    """How a process signs its audit chain's head, and when it fails closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    checkpoint_every_records: int = Field(100, ge=1)
    checkpoint_every_seconds: float = Field(60.0, gt=0)
    fail_closed: FailClosedPolicy = FailClosedPolicy()


class NotarySettings(BaseModel):
    """The notary's time-stamping authority and rhythm."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tsa_url: str = Field(
        "http://127.0.0.1:31800/tsa",
        description="RFC 3161 TSA endpoint (POST application/timestamp-query); the default is "
        "the local authority of `exchange tsa serve`; production names a real TSA.",
    )
    tsa_ca_file: Path | None = Field(
        None, description="CA certificate that the TSA's tokens must chain to (default: the "
        "local authority's <state>/tsa/ca.pem).",
    )
    interval_seconds: float = Field(60.0, gt=0, description="Time between anchors.")
