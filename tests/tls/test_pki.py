"""The local PKI: a CA, server certificates with loopback names, private modes, renewal."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509

from exchange.tls.context import client_context, server_context
from exchange.tls.exceptions import TlsFileError
from exchange.tls.pki import LocalPki, PkiSettings

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def _pki(tmp_path: Path, now: dt.datetime = NOW) -> LocalPki:
    return LocalPki(tmp_path / "pki", PkiSettings(server_days=90, renew_before_days=30),
                    clock=lambda: now)


def _leaf(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificates(path.read_bytes())[0]


def test_keys_are_private_and_certificates_name_the_loopback(tmp_path: Path) -> None:
    pki = _pki(tmp_path)
    issued = pki.server("node-1", ["kafka-1.internal"])
    assert stat.S_IMODE(pki.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(pki.ca_key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(issued.path.stat().st_mode) == 0o600
    leaf = _leaf(issued.path)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost", "kafka-1.internal"}
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")
    }
    ca = x509.load_pem_x509_certificate(pki.ca_file.read_bytes())
    leaf.verify_directly_issued_by(ca)
    assert leaf.not_valid_after_utc == NOW + dt.timedelta(days=90)


def test_a_certificate_is_kept_until_it_nears_its_end_then_renewed(tmp_path: Path) -> None:
    first = _pki(tmp_path).server("node-1")
    assert first.renewed
    serial = _leaf(first.path).serial_number
    later = _pki(tmp_path, NOW + dt.timedelta(days=59)).server("node-1")
    assert not later.renewed
    assert _leaf(later.path).serial_number == serial
    near_end = _pki(tmp_path, NOW + dt.timedelta(days=61)).server("node-1")
    assert near_end.renewed
    assert _leaf(near_end.path).serial_number != serial
    assert near_end.not_after == NOW + dt.timedelta(days=61 + 90)


def test_a_new_ca_or_new_names_reissue_the_certificate(tmp_path: Path) -> None:
    pki = _pki(tmp_path)
    pki.server("node-1")
    assert not pki.server("node-1").renewed
    assert pki.server("node-1", ["other-host"]).renewed
    pki.ca_file.unlink()
    assert pki.server("node-1", ["other-host"]).renewed  # a new CA: the old chain is no use


def test_renewal_must_leave_a_certificate_some_life() -> None:
    with pytest.raises(ValueError, match="renew_before_days"):
        PkiSettings(server_days=30, renew_before_days=30)


def test_a_client_verifies_the_ca_and_the_host_name(tmp_path: Path) -> None:
    """A real TLS handshake on loopback with the issued certificate (no Kafka needed)."""
    pki = LocalPki(tmp_path / "pki")
    server = server_context(pki.server("gateway").path)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(2):
            connection, _ = listener.accept()
            try:
                with server.wrap_socket(connection, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        client = client_context(cafile=pki.ca_file)
        with socket.create_connection(("127.0.0.1", port)) as raw, \
                client.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
        with socket.create_connection(("127.0.0.1", port)) as raw, \
                pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
            client.wrap_socket(raw, server_hostname="kafka.example")
    finally:
        listener.close()
        thread.join(5)


def test_an_unreadable_server_certificate_names_its_setting(tmp_path: Path) -> None:
    bad = tmp_path / "gateway.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(TlsFileError) as raised:
        server_context(bad, setting="tls")
    assert str(bad) in str(raised.value)
    assert "tls.certfile" in str(raised.value)
