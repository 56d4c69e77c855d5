"""Seconds until the bus's TLS certificates expire, for Prometheus (served by ``exchange monitor``).

``exchange_tls_certificate_expiry_seconds{role, subject, source}``: for

- ``role="ca"``: the CA the clients trust (``EXCHANGE_KAFKA__SSL_CAFILE``, the local CA by
  default), ``source`` its file;
- ``role="client"``: the client certificate of mutual TLS, when one is configured;
- ``role="broker"``: the certificate each bootstrap broker *serves*, read from a TLS handshake
  with it (``source`` = host:port). Read as it is on the wire, with no verification (an
  expired certificate must still be measured), and nothing sent but the handshake: no
  credentials.

Negative once expired. The local PKI renews a broker's certificate when the broker starts with
fewer than ``renew_before_days`` left; a broker running longer than that is what the
``TLSCertificateExpiringSoon`` alert catches, and so are certificates issued by anyone else.
Refreshed by :meth:`CertificateExpiry.refresh` (each monitor poll); a scrape only subtracts.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from exchange.settings import KafkaSettings

__all__ = ["CertificateExpiry", "Expiry", "served_certificate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Expiry:
    role: str
    subject: str
    source: str
    not_after: float
    """POSIX seconds."""


def _subject(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


def _expiry(role: str, certificate: x509.Certificate, source: str) -> Expiry:
    return Expiry(role, _subject(certificate), source,
                  certificate.not_valid_after_utc.timestamp())


def _file_expiries(role: str, path: Path) -> list[Expiry]:
    """Every certificate of a PEM file (a CA bundle may hold several)."""
    return [_expiry(role, c, str(path)) for c in x509.load_pem_x509_certificates(path.read_bytes())]


def served_certificate(host: str, port: int, timeout_s: float = 5.0) -> x509.Certificate:
    """The certificate ``host:port`` presents in a TLS handshake (not verified: only read)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # read, never trusted: nothing is sent over it
    with socket.create_connection((host, port), timeout=timeout_s) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise ssl.SSLError(f"{host}:{port} presented no certificate")
    return x509.load_der_x509_certificate(der)


class CertificateExpiry:
    """The certificates of one client configuration and of the brokers it connects to."""

    def __init__(self, kafka: KafkaSettings, registry: CollectorRegistry, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.kafka = kafka
        self.clock = clock
        self.expiries: list[Expiry] = []
        self.problems: list[str] = []
        registry.register(_Collector(self))

    def refresh(self) -> list[Expiry]:
        """Read the files and handshake with each bootstrap broker; what failed is logged and
        kept in :attr:`problems` (its series disappear until it reads again)."""
        found: list[Expiry] = []
        problems: list[str] = []
        for role, path in (("ca", self.kafka.ssl_cafile), ("client", self.kafka.ssl_certfile)):
            if path is not None:
                try:
                    found += _file_expiries(role, Path(path))
                except (OSError, ValueError) as error:
                    problems.append(f"{role} {path}: {error}")
        if self.kafka.uses_tls:
            for server in self.kafka.bootstrap_servers.split(","):
                host, _, port = server.strip().rpartition(":")
                try:
                    found.append(_expiry("broker", served_certificate(host, int(port)), server))
                except (OSError, ValueError) as error:
                    problems.append(f"broker {server}: {type(error).__name__}: {error}")
        for problem in problems:
            log.warning("certificate not read: %s", problem)
        self.expiries, self.problems = found, problems
        return found


class _Collector(Collector):
    def __init__(self, owner: CertificateExpiry) -> None:
        self.owner = owner

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "exchange_tls_certificate_expiry_seconds",
            "Seconds until a TLS certificate of the bus expires (negative: expired), by role "
            "(ca, client, broker), subject and where it was read.",
            labels=["role", "subject", "source"],
        )
        now = self.owner.clock()
        for e in self.owner.expiries:
            family.add_metric([e.role, e.subject, e.source], e.not_after - now)
        yield family
