"""Settings reach an existing cluster: SASL, TLS, and clear errors when something is missing."""

from __future__ import annotations

import pytest

from exchange.errors import SettingsError
from exchange.settings import ExchangeSettings, KafkaSettings


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
    assert admin["ssl_cafile"] == "/etc/ssl/certs/ca-certificates.crt"
    assert admin["sasl_plain_username"] == "agency.police"
    client = settings.aiokafka_kwargs()
    assert client["ssl_context"] is not None
    assert client["sasl_mechanism"] == "SCRAM-SHA-512"


def test_environment_is_read_only_by_the_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_KAFKA__BOOTSTRAP_SERVERS", "broker.example:9092")
    monkeypatch.setenv("EXCHANGE_KAFKA__USERNAME", "agency.health")
    monkeypatch.setenv("EXCHANGE_KAFKA__PASSWORD", "pw")
    settings = ExchangeSettings()
    assert settings.kafka.bootstrap_servers == "broker.example:9092"
    assert settings.kafka.password is not None
    assert "pw" not in repr(settings)


def test_worker_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXCHANGE_WORKER__PROTECTED", raising=False)
    assert ExchangeSettings().worker.protected is False  # unprotected unless asked
    monkeypatch.setenv("EXCHANGE_WORKER__PROTECTED", "true")
    monkeypatch.setenv("EXCHANGE_WORKER__APP_ID", "workflows.protected")
    worker = ExchangeSettings().worker
    assert worker.protected is True
    assert worker.app_id == "workflows.protected"
