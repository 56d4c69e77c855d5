"""Against the real TLS broker: a client with the wrong CA, an expired CA certificate, or
plaintext against the TLS port fails with one line naming the file or setting to fix; TLS
without SCRAM gets nowhere either."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from kafka.admin import KafkaAdminClient
from prometheus_client import CollectorRegistry

from exchange.client.publisher import Publisher
from exchange.metrics import BusMetrics
from exchange.settings import KafkaSettings
from exchange.tls.exceptions import TlsHandshakeError
from exchange.tls.kafka import explain, kafka_python_client, start_client
from exchange.tls.pki import LocalPki

pytestmark = pytest.mark.broker

REPO = Path(__file__).resolve().parents[2]


def _expired_copy_of_the_ca(kafka, tmp_path: Path) -> Path:
    """The broker's own CA (same name, same key) but with a validity that ended yesterday."""
    pki = kafka.cluster.pki
    ca = x509.load_pem_x509_certificate(pki.ca_file.read_bytes())
    key = serialization.load_pem_private_key(pki.ca_key_file.read_bytes(), password=None)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder().subject_name(ca.subject).issuer_name(ca.subject)
        .public_key(ca.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=30)).not_valid_after(now - dt.timedelta(days=1))
    )
    for extension in ca.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    path = tmp_path / "expired-ca.crt"
    path.write_bytes(builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    return path


def _other_ca(tmp_path: Path) -> Path:
    pki = LocalPki(tmp_path / "other-pki")
    pki.ca()
    return pki.ca_file


@pytest.fixture
def police(provisioned) -> KafkaSettings:
    return provisioned.kafka_as("police")


async def test_the_verified_client_connects(police: KafkaSettings, codec, provisioned) -> None:
    assert police.security_protocol == "SASL_SSL"
    assert police.ssl_cafile is not None
    assert explain(police) is None
    publisher = Publisher(police, codec, provisioned.topology, agency="police",
                          source="/agencies/police/test", metrics=BusMetrics(CollectorRegistry()),
                          protection=provisioned.protection_for("police"))
    async with publisher:
        pass


async def test_wrong_ca_names_the_ca_file_and_setting(
    police: KafkaSettings, codec, provisioned, tmp_path: Path
) -> None:
    other = _other_ca(tmp_path)
    wrong = police.model_copy(update={"ssl_cafile": other})
    publisher = Publisher(wrong, codec, provisioned.topology, agency="police",
                          source="/agencies/police/test", metrics=BusMetrics(CollectorRegistry()),
                          protection=provisioned.protection_for("police"))
    with pytest.raises(TlsHandshakeError) as raised:
        await publisher.__aenter__()
    await publisher.__aexit__(None, None, None)
    error = raised.value
    assert error.reason == "wrong-ca"
    assert error.setting == "kafka.ssl_cafile"
    assert error.path == other
    assert str(other) in str(error)
    assert "\n" not in str(error)
    assert isinstance(error.__cause__, KafkaConnectionError)


def test_expired_ca_certificate_names_the_file(police: KafkaSettings, kafka, tmp_path) -> None:
    expired = _expired_copy_of_the_ca(kafka, tmp_path)
    with pytest.raises(TlsHandshakeError) as raised:
        kafka_python_client(
            KafkaAdminClient, police.model_copy(update={"ssl_cafile": expired}),
            api_version_auto_timeout_ms=3000,
        )
    error = raised.value
    assert error.reason == "expired"
    assert error.path == expired
    assert str(expired) in str(error)
    assert "expired on" in str(error)
    assert "\n" not in str(error)


async def test_plaintext_against_the_tls_port_names_the_protocol_setting(
    police: KafkaSettings,
) -> None:
    from aiokafka import AIOKafkaProducer  # noqa: PLC0415 - only this test builds a raw one

    plaintext = police.model_copy(
        update={"security_protocol": "SASL_PLAINTEXT", "request_timeout_ms": 5000}
    )
    producer = AIOKafkaProducer(**plaintext.aiokafka_kwargs())
    with pytest.raises(TlsHandshakeError) as raised:
        await start_client(producer, plaintext)
    await producer.stop()
    error = raised.value
    assert error.reason == "plaintext-client"
    assert error.setting == "kafka.security_protocol"
    assert "SASL_SSL" in str(error)
    assert "EXCHANGE_KAFKA__SECURITY_PROTOCOL" in str(error)


def test_a_node_closing_mid_handshake_does_not_hide_the_others(police: KafkaSettings) -> None:
    """A node that is starting or stopping closes connections mid-handshake, as a plaintext
    listener does: with another bootstrap server that speaks TLS, nothing is wrong (a worker
    started during a broker's restart must not exit); alone, it is reported."""
    closing = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def close_each() -> None:
        # reads the ClientHello, then closes: a close with the hello unread would reset the
        # connection (RST), which the client sees as a network error, not a TLS refusal (the
        # test then depended on whether the hello came before the close: it failed in CI once)
        closing.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted, _ = closing.accept()
                with accepted:
                    accepted.settimeout(2)
                    accepted.recv(65536)

    thread = threading.Thread(target=close_each, daemon=True)
    thread.start()
    address = f"127.0.0.1:{closing.getsockname()[1]}"
    try:
        both = police.model_copy(
            update={"bootstrap_servers": f"{address},{police.bootstrap_servers}"})
        assert explain(both, again_after_s=0.2) is None
        alone = police.model_copy(update={"bootstrap_servers": address})
        problem = explain(alone, again_after_s=0.2)
        assert problem is not None
        assert problem.reason == "tls-client-on-plaintext"
    finally:
        stop.set()
        thread.join(5)
        closing.close()


def test_tls_without_scram_is_not_let_in(kafka) -> None:
    """TLS encrypts; it does not authenticate: a TLS client without SCRAM gets nothing."""
    tls_only = KafkaSettings(
        bootstrap_servers=kafka.bootstrap, security_protocol="SSL",
        ssl_cafile=kafka.admin.ssl_cafile,
    )
    assert explain(tls_only) is None  # the handshake itself succeeds
    with pytest.raises(Exception):  # noqa: B017, PT011 - kafka-python raises several kinds
        KafkaAdminClient(**tls_only.kafka_python_kwargs(), api_version_auto_timeout_ms=3000)


@pytest.mark.parametrize("case", ["wrong-ca", "expired-ca", "plaintext"])
def test_the_cli_prints_one_line_and_no_traceback(
    case: str, provisioned, kafka, tmp_path: Path
) -> None:
    """What an operator sees: one line on stderr naming the file or the setting to fix."""
    env = {
        **os.environ,
        "EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": provisioned.broker.bootstrap,
        "EXCHANGE_STATE_DIR": str(provisioned.credentials.directory.parent),
    }
    if case == "wrong-ca":
        named = _other_ca(tmp_path)
        env["EXCHANGE_KAFKA__SSL_CAFILE"] = str(named)
        expected = [str(named), "EXCHANGE_KAFKA__SSL_CAFILE"]
    elif case == "expired-ca":
        named = _expired_copy_of_the_ca(kafka, tmp_path)
        env["EXCHANGE_KAFKA__SSL_CAFILE"] = str(named)
        expected = [str(named), "expired on"]
    else:
        env["EXCHANGE_KAFKA__SECURITY_PROTOCOL"] = "SASL_PLAINTEXT"
        expected = ["SASL_SSL", "EXCHANGE_KAFKA__SECURITY_PROTOCOL"]
    done = subprocess.run(
        [sys.executable, "-m", "exchange.cli.main", "tail", "exchange.sighting", "--as",
         "police", "--timeout", "5"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120, check=False,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("exchange: error: "), lines[0]
    assert "Traceback" not in done.stderr
    for part in expected:
        assert part in lines[0], lines[0]
