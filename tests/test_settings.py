"""Settings reach an existing cluster: SASL, TLS, and clear errors when something is missing."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from exchange.errors import SettingsError
from exchange.settings import ExchangeSettings, KafkaSettings
from exchange.tls.exceptions import TlsFileError


def test_sasl_user_without_password_is_refused() -> None:
    with pytest.raises(SettingsError, match="has no password"):
        KafkaSettings(username="agency.police")


def test_sasl_without_principal_says_what_to_set() -> None:
    with pytest.raises(SettingsError, match="EXCHANGE_KAFKA__USERNAME"):
        KafkaSettings().aiokafka_kwargs()


def test_tls_settings_reach_both_clients() -> None:
    settings = KafkaSettings(
        bootstrap_servers="kafka-1.example:9093,kafka-2.example:9093",
        security_protocol="SASL_SSL", username="agency.police", password="secret",
        ssl_cafile="/etc/ssl/certs/ca-certificates.crt",
    )
    admin = settings.kafka_python_kwargs()
    assert admin["bootstrap_servers"] == ["kafka-1.example:9093", "kafka-2.example:9093"]
    assert admin["sasl_plain_username"] == "agency.police"
    client = settings.aiokafka_kwargs()
    assert client["sasl_mechanism"] == "SCRAM-SHA-512"
    for context in (admin["ssl_context"], client["ssl_context"]):
        assert context.check_hostname
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_tls_is_the_default() -> None:
    settings = KafkaSettings()
    assert settings.security_protocol == "SASL_SSL"
    assert settings.uses_tls
    assert ExchangeSettings().kafka.uses_tls


def test_a_loopback_cluster_trusts_the_local_ca(tmp_path: Path) -> None:
    settings = ExchangeSettings(state_dir=tmp_path)
    assert settings.kafka_client().ssl_cafile == tmp_path.resolve() / "pki" / "ca.crt"
    remote = KafkaSettings(bootstrap_servers="kafka-1.example:9093,127.0.0.1:9093")
    assert remote.trusting_local_ca(tmp_path / "ca.crt").ssl_cafile is None
    own = KafkaSettings(ssl_cafile=tmp_path / "mine.crt")
    assert own.trusting_local_ca(tmp_path / "ca.crt").ssl_cafile == tmp_path / "mine.crt"


def test_a_missing_ca_file_names_the_setting_and_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "ca.crt"
    settings = KafkaSettings(ssl_cafile=missing).with_principal("agency.police", "pw")
    with pytest.raises(TlsFileError) as raised:
        settings.aiokafka_kwargs()
    message = str(raised.value)
    assert "\n" not in message
    assert str(missing) in message
    assert "kafka.ssl_cafile" in message
    assert "EXCHANGE_KAFKA__SSL_CAFILE" in message
    assert raised.value.setting == "kafka.ssl_cafile"


def test_environment_is_read_only_by_the_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_KAFKA__BOOTSTRAP_SERVERS", "broker.example:9092")
    monkeypatch.setenv("EXCHANGE_KAFKA__USERNAME", "agency.health")
    monkeypatch.setenv("EXCHANGE_KAFKA__PASSWORD", "pw")
    settings = ExchangeSettings()
    assert settings.kafka.bootstrap_servers == "broker.example:9092"
    assert settings.kafka.password is not None
    assert "pw" not in repr(settings)


def test_worker_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_WORKER__APP_ID", "workflows.protected")
    assert ExchangeSettings().worker.app_id == "workflows.protected"


def test_no_setting_turns_protection_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Protection has no switch in the environment: only the command line's --unprotected."""
    monkeypatch.setenv("EXCHANGE_WORKER__PROTECTED", "false")
    with pytest.raises(ValidationError, match="protected"):
        ExchangeSettings()


def test_settings_travel_to_a_child_process_whole(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    settings = KafkaSettings(
        bootstrap_servers="127.0.0.1:29092", ssl_cafile=tmp_path / "ca.crt"
    ).with_principal("agency.workflows", "pw")
    for name, value in settings.environment().items():
        monkeypatch.setenv(name, value)
    assert ExchangeSettings().kafka == settings
