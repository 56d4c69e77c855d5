"""Settings models for the bus. The library never reads the environment.

Only the CLI and process entry points instantiate these from environment variables (prefix
``EXCHANGE_``, nested with ``__``, e.g. ``EXCHANGE_KAFKA__BOOTSTRAP_SERVERS``); library code
receives frozen instances. To use an existing cluster instead of the local broker, set the
bootstrap servers, the principal's credentials and the CA file that signed the cluster's
certificates (``EXCHANGE_KAFKA__SSL_CAFILE``).

TLS is the default (``SASL_SSL``: SCRAM-SHA-512 over TLS 1.2+, the server's chain and host name
verified). With no CA file set and every bootstrap server on loopback, the entry points trust the
local CA that ``exchange broker up`` made (``<state>/pki/ca.crt``, :meth:`KafkaSettings.
trusting_local_ca`); elsewhere, without a CA file, the system's CAs.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange.errors import SettingsError
from exchange.tls.context import client_context
from exchange.tls.pki import PkiSettings

SecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]

LOCAL_BOOTSTRAP = "127.0.0.1:19092"
"""Where ``exchange broker up`` serves clients (SASL_SSL: SCRAM-SHA-512 over TLS, on loopback)."""
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class KafkaSettings(BaseModel):
    """How to reach the cluster, and as whom."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap_servers: str = Field(
        LOCAL_BOOTSTRAP, description="Comma-separated host:port list of the cluster's brokers."
    )
    security_protocol: SecurityProtocol = Field(
        "SASL_SSL",
        description="SASL_SSL (the default) or SSL; the plaintext ones only for a debugging "
        "listener that was opened on purpose.",
    )
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

    @property
    def on_loopback(self) -> bool:
        """Every bootstrap server is on this machine's loopback."""
        hosts = (part.strip().rpartition(":")[0] for part in self.bootstrap_servers.split(","))
        return all(host in LOOPBACK_HOSTS or host.startswith("127.") for host in hosts)

    def trusting_local_ca(self, ca_file: Path) -> KafkaSettings:
        """These settings, trusting ``ca_file`` (the local CA) when TLS is on, no CA file is
        set and every bootstrap server is on loopback; otherwise unchanged."""
        if self.uses_tls and self.ssl_cafile is None and self.on_loopback:
            return self.model_copy(update={"ssl_cafile": ca_file})
        return self

    def ssl_context(self) -> ssl.SSLContext:
        """The client TLS context: TLS 1.2+, verifying the CA file (or the system's CAs) and the
        host name; a missing or unreadable file fails here, naming its setting."""
        return client_context(
            cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
        )

    def environment(self) -> dict[str, str]:
        """These settings as ``EXCHANGE_KAFKA__*`` variables, for a child process's entry point
        (the demo's and the benchmarks' ``exchange worker``)."""
        values: dict[str, str] = {
            "BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "SECURITY_PROTOCOL": self.security_protocol,
            "SASL_MECHANISM": self.sasl_mechanism,
        }
        if self.username and self.password is not None:
            values |= {"USERNAME": self.username, "PASSWORD": self.password.get_secret_value()}
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            path = getattr(self, name)
            if path is not None:
                values[name.upper()] = str(Path(path).resolve())
        return {f"EXCHANGE_KAFKA__{name}": value for name, value in values.items()}

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

    def aiokafka_kwargs(self) -> dict[str, Any]:
        """Connection keyword arguments for aiokafka clients (producer, consumer, admin)."""
        kwargs = {"bootstrap_servers": self.bootstrap_servers, **self._common_kwargs()}
        if self.uses_tls:
            kwargs["ssl_context"] = self.ssl_context()
        return kwargs

    def kafka_python_kwargs(self) -> dict[str, Any]:
        """Connection keyword arguments for kafka-python clients (used for administration)."""
        kwargs = {"bootstrap_servers": self.bootstrap_servers.split(","), **self._common_kwargs()}
        if self.uses_tls:
            kwargs["ssl_context"] = self.ssl_context()
        return kwargs


class WorkerSettings(BaseModel):
    """Settings of ``exchange worker`` (``EXCHANGE_WORKER__...``; its flags override them).

    There is no setting to turn protection off: the worker always verifies, opens, seals and
    signs; only the command line's ``--unprotected`` skips it (and warns at every start)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    app_id: str = Field(
        "workflows.main",
        description="faust app id: consumer group and prefix of the internal topics (must start "
        "with 'workflows.'). Workers sharing the partitions of one deployment share it.",
    )


class KeySettings(BaseModel):
    """Where this host keeps its keys and which root it trusts (``EXCHANGE_KEYS__...``).

    Both default to the ordinary layout: ``<state>/keys`` and the root pinned in
    ``topology/trust.toml``. A host that plays several agencies with an office of its own sets
    them for each process it starts (``exchange demo`` does, for its worker)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    folder: Path | None = Field(
        None, description="This host's key folder (private/, public/); default <state>/keys."
    )
    pinned_root: str | None = Field(
        None,
        pattern=r"^SHA256:[0-9a-f]{64}$",
        description="Trust certificates signed by the root key with this fingerprint instead of "
        "the one pinned in topology/trust.toml.",
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
    keys: KeySettings = KeySettings()
    pki: PkiSettings = PkiSettings()
    audit: AuditSettings = AuditSettings()
    notary: NotarySettings = NotarySettings()

    @property
    def pki_dir(self) -> Path:
        """The local CA and the server certificates it issued (:mod:`exchange.tls.pki`)."""
        return self.state_dir / "pki"

    def kafka_client(self) -> KafkaSettings:
        """``kafka``, trusting the local CA when it points at a loopback cluster without a CA
        file of its own."""
        return self.kafka.trusting_local_ca(self.pki_dir.resolve() / "ca.crt")

    @property
    def keys_dir(self) -> Path:
        """This host's key folder (:class:`KeySettings`)."""
        return self.keys.folder or self.state_dir / "keys"

    @property
    def credentials_dir(self) -> Path:
        return self.state_dir / "credentials"
