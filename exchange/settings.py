"""Settings models for the bus. The library never reads the environment.

Only the CLI and process entry points instantiate these from environment variables (prefix
``EXCHANGE_``, nested with ``__``, e.g. ``EXCHANGE_KAFKA__BOOTSTRAP_SERVERS``); library code
receives frozen instances. To use an existing cluster instead of the local broker, set the
bootstrap servers, the security protocol and the principal's credentials (and TLS files for
``SASL_SSL``/``SSL``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange.errors import SettingsError

SecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]

LOCAL_BOOTSTRAP = "127.0.0.1:19092"
"""Where ``exchange broker up`` serves clients (SASL/SCRAM-SHA-512 on loopback)."""


class KafkaSettings(BaseModel):
    """How to reach the cluster, and as whom."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap_servers: str = Field(
        LOCAL_BOOTSTRAP, description="Comma-separated host:port list of the cluster's brokers."
    )
    security_protocol: SecurityProtocol = "SASL_PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str | None = Field(None, description="SASL principal name (an agency system).")
    password: SecretStr | None = None
    ssl_cafile: Path | None = Field(None, description="CA bundle that signed the brokers' certs.")
    ssl_certfile: Path | None = Field(None, description="Client certificate (mutual TLS).")
    ssl_keyfile: Path | None = None
    client_id: str = "exchange"
    request_timeout_ms: int = Field(30_000, gt=0)

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSettings:
        if self.security_protocol.startswith("SASL") and self.username and self.password is None:
            raise SettingsError("kafka.password", f"SASL user {self.username!r} has no password")
        return self

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SASL_SSL", "SSL")

    def with_principal(self, username: str, password: str) -> KafkaSettings:
        """The same cluster, authenticated as another principal."""
        return self.model_copy(update={"username": username, "password": SecretStr(password)})

    def _require_credentials(self) -> tuple[str, str]:
        if not self.uses_sasl:
            return ("", "")
        if not self.username or self.password is None:
            raise SettingsError(
                "kafka.username",
                f"{self.security_protocol} needs a principal: pass --as AGENCY or set "
                "EXCHANGE_KAFKA__USERNAME and EXCHANGE_KAFKA__PASSWORD",
            )
        return self.username, self.password.get_secret_value()

    def _common_kwargs(self) -> dict[str, Any]:
        """What aiokafka and kafka-python name alike: protocol, client id, timeout, SASL."""
        kwargs: dict[str, Any] = {
            "security_protocol": self.security_protocol,
            "client_id": self.client_id,
            "request_timeout_ms": self.request_timeout_ms,
        }
        if self.uses_sasl:
            user, password = self._require_credentials()
            kwargs |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": user,
                "sasl_plain_password": password,
            }
        return kwargs

    def _tls_files(self) -> dict[str, str | None]:
        return {
            "cafile": str(self.ssl_cafile) if self.ssl_cafile else None,
            "certfile": str(self.ssl_certfile) if self.ssl_certfile else None,
            "keyfile": str(self.ssl_keyfile) if self.ssl_keyfile else None,
        }

    def aiokafka_kwargs(self) -> dict[str, Any]:
        """Connection keyword arguments for aiokafka clients (producer, consumer, admin)."""
        kwargs = {"bootstrap_servers": self.bootstrap_servers, **self._common_kwargs()}
        if self.uses_tls:
            kwargs["ssl_context"] = create_ssl_context(**self._tls_files())
        return kwargs

    def kafka_python_kwargs(self) -> dict[str, Any]:
        """Connection keyword arguments for kafka-python clients (used for administration)."""
        kwargs = {"bootstrap_servers": self.bootstrap_servers.split(","), **self._common_kwargs()}
        if self.uses_tls:
            kwargs |= {f"ssl_{name}": path for name, path in self._tls_files().items()}
        return kwargs


class WorkerSettings(BaseModel):
    """Settings of ``exchange worker`` (``EXCHANGE_WORKER__...``; its flags override them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    protected: bool = Field(
        False,
        description="Verify and open inputs as the workflows agency (quarantining unsigned, "
        "forged, tampered and replayed events), seal and sign outputs, seal table state, audit "
        "deliveries and routing. Needs the agencies' keys in <state>/keys (`exchange keys init`).",
    )
    app_id: str = Field(
        "workflows.main",
        description="faust app id: consumer group and prefix of the internal topics (must start "
        "with 'workflows.'). Workers sharing the partitions of one deployment share it.",
    )


# --- evidence (the audit chain's checkpoints, the notary, the fail-closed policy) ----------


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


class ExchangeSettings(BaseSettings):
    """Top-level settings of a process of the bus (CLI, worker, connector)."""

    model_config = SettingsConfigDict(
        env_prefix="EXCHANGE_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    kafka: KafkaSettings = KafkaSettings()
    state_dir: Path = Field(
        Path(".state"),
        description="Local broker data, logs, jars and development credentials (git-ignored).",
    )
    metrics_port: int | None = Field(
        None, description="Serve Prometheus metrics on this port (long-running processes)."
    )
    worker: WorkerSettings = WorkerSettings()
    audit: AuditSettings = AuditSettings()
    notary: NotarySettings = NotarySettings()

    @property
    def credentials_dir(self) -> Path:
        return self.state_dir / "credentials"
