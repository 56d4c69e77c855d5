"""The handshake diagnosis against real TLS (and plaintext) servers on loopback, for the cases
the broker tests cannot stage cheaply: an expired server certificate, a host name it does not
carry, a TLS client against a plaintext port."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from exchange.tls.context import client_context, server_context
from exchange.tls.diagnose import probe
from exchange.tls.pki import LocalPki


@contextmanager
def serving(context: ssl.SSLContext | None) -> Iterator[str]:
    """A loopback server answering one TLS handshake (or, without a context, plaintext)."""
    listener = socket.create_server(("127.0.0.1", 0))
    address = f"127.0.0.1:{listener.getsockname()[1]}"

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            try:
                if context is None:
                    connection.recv(1024)  # a Kafka broker would close on a TLS hello
                else:
                    with context.wrap_socket(connection, server_side=True) as tls:
                        tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield address
    finally:
        listener.close()
        thread.join(5)


def test_an_expired_server_certificate_says_renew(tmp_path: Path) -> None:
    pki = LocalPki(tmp_path / "pki")
    now = dt.datetime.now(dt.UTC)
    expired = pki.write_server("node-1", ["127.0.0.1"], now - dt.timedelta(days=91),
                               now - dt.timedelta(days=1))
    with serving(server_context(expired)) as address:
        problem = probe(address, context=client_context(cafile=pki.ca_file), cafile=pki.ca_file)
    assert problem is not None
    assert problem.reason == "expired"
    assert "exchange broker up" in str(problem)
    assert "node-" in str(problem)


def test_a_host_name_the_certificate_lacks_names_the_bootstrap_setting(tmp_path: Path) -> None:
    pki = LocalPki(tmp_path / "pki")
    now = dt.datetime.now(dt.UTC)
    elsewhere = pki.write_server("node-1", ["kafka.example"], now, now + dt.timedelta(days=1))
    with serving(server_context(elsewhere)) as address:
        problem = probe(address, context=client_context(cafile=pki.ca_file), cafile=pki.ca_file)
    assert problem is not None
    assert problem.reason == "hostname", problem
    assert problem.setting == "kafka.bootstrap_servers"


def test_a_tls_client_against_a_plaintext_port(tmp_path: Path) -> None:
    pki = LocalPki(tmp_path / "pki")
    pki.ca()
    with serving(None) as address:
        problem = probe(address, context=client_context(cafile=pki.ca_file), cafile=pki.ca_file)
    assert problem is not None
    assert problem.reason == "tls-client-on-plaintext"


def test_nothing_listening_is_not_a_tls_problem() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{free.getsockname()[1]}"
    assert probe(address, context=None, cafile=None) is None
