"""The project's own small PKI: a local certificate authority and the server certificates it
issues for the local Kafka nodes and the HTTP gateway.

Layout under ``<state>/pki`` (folder mode 0700, every private key 0600)::

    ca.crt        the CA certificate: what clients trust (``kafka.ssl_cafile``), what the
                  brokers trust for each other (``ssl.truststore.type=PEM``)
    ca.key        the CA's private key (PKCS#8); it never leaves this folder
    <name>.pem    a server's private key (PKCS#8, unencrypted, mode 0600) followed by its
                  certificate and the CA's: Kafka reads it as a file-based PEM keystore
                  (``ssl.keystore.type=PEM``, ``ssl.keystore.location``) and Python's
                  ``SSLContext.load_cert_chain`` takes it as ``certfile``

Server certificates name the loopback addresses (``localhost``, ``127.0.0.1``, ``::1``) plus
any other host given, so clients verify both the CA and the host name. They live
``server_days`` and are renewed when fewer than ``renew_before_days`` are left (or when the CA,
or the names they must carry, changed): ``exchange broker up`` calls :meth:`LocalPki.server`
before it starts each node. The CA lives ``ca_days`` and is replaced (and every server
certificate with it) when it nears its end the same way. Keys are ECDSA P-256.

This is a development and test PKI (one machine, one folder). A deployment uses its own CA:
point ``kafka.ssl_cafile`` at it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import BaseModel, ConfigDict, Field, model_validator

from exchange.tls.exceptions import PkiError

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
CA_NAME = "Xi'an exchange bus local CA"


class PkiSettings(BaseModel):
    """Lifetimes of the local CA and its server certificates (``EXCHANGE_PKI__...``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ca_days: int = Field(3650, gt=1, description="Lifetime of a new local CA, in days.")
    server_days: int = Field(90, gt=1, description="Lifetime of a new server certificate.")
    renew_before_days: int = Field(
        30, ge=0,
        description="Renew a server certificate (or the CA) when fewer days than this are left.",
    )

    @model_validator(mode="after")
    def _renewal_fits(self) -> PkiSettings:
        if self.renew_before_days >= self.server_days:
            raise ValueError(
                "renew_before_days must be below server_days, or every start renews"
            )
        return self


@dataclass(frozen=True)
class IssuedCertificate:
    """One server's keystore file and what its certificate says."""

    path: Path
    not_after: dt.datetime
    names: tuple[str, ...]
    renewed: bool


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LocalPki:
    """The CA and server certificates kept in ``directory`` (``<state>/pki``)."""

    def __init__(
        self, directory: Path, settings: PkiSettings | None = None, *,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.directory = Path(directory)
        self.settings = settings or PkiSettings()
        self._clock = clock

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def ca_key_file(self) -> Path:
        return self.directory / "ca.key"

    def server_file(self, name: str) -> Path:
        return self.directory / f"{name}.pem"

    # -- the CA -------------------------------------------------------------------------------

    def ca(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        """The CA's certificate and key, made on first use and replaced near its end."""
        if self.ca_file.is_file() and self.ca_key_file.is_file():
            certificate = _load_certificate(self.ca_file)
            key = _load_key(self.ca_key_file)
            if self._days_left(certificate) >= self.settings.renew_before_days:
                return certificate, key
        return self._new_ca()

    def _new_ca(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = self._clock()
        name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "xian-exchange (development)"),
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
        ])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=self.settings.ca_days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True,
                    content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        self._write(self.ca_key_file, _key_pem(key), private=True)
        self._write(self.ca_file, certificate.public_bytes(serialization.Encoding.PEM))
        return certificate, key

    # -- server certificates ------------------------------------------------------------------

    def server(self, name: str, hosts: Sequence[str] = ()) -> IssuedCertificate:
        """``<name>.pem`` for a server answering on the loopback names and ``hosts``; issued
        when missing, renewed when near its end or when the CA or the names changed."""
        names = tuple(dict.fromkeys((*LOOPBACK_NAMES, *hosts)))
        ca_certificate, ca_key = self.ca()
        path = self.server_file(name)
        if path.is_file():
            current = _load_certificate(path)
            if (
                self._days_left(current) >= self.settings.renew_before_days
                and current.issuer == ca_certificate.subject
                and _signed_by(current, ca_certificate)
                and _names_of(current) == set(names)
            ):
                return IssuedCertificate(path, current.not_valid_after_utc, names, renewed=False)
        now = self._clock()
        not_after = now + dt.timedelta(days=self.settings.server_days)
        self.write_server(name, names, now - dt.timedelta(minutes=5), not_after,
                          (ca_certificate, ca_key))
        return IssuedCertificate(path, not_after, names, renewed=True)

    def write_server(
        self, name: str, names: Sequence[str], not_before: dt.datetime, not_after: dt.datetime,
        ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    ) -> Path:
        """Issue ``<name>.pem`` with the given validity (tests use it for expired ones)."""
        ca_certificate, ca_key = ca or self.ca()
        key = ec.generate_private_key(ec.SECP256R1())
        alternative: list[x509.GeneralName] = []
        for host in names:
            try:
                alternative.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alternative.append(x509.DNSName(host))
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        chain = b"".join(
            c.public_bytes(serialization.Encoding.PEM) for c in (certificate, ca_certificate)
        )
        path = self.server_file(name)
        self._write(path, _key_pem(key) + chain, private=True)
        return path

    # -- files --------------------------------------------------------------------------------

    def _days_left(self, certificate: x509.Certificate) -> float:
        return (certificate.not_valid_after_utc - self._clock()).total_seconds() / 86_400

    def _write(self, path: Path, content: bytes, *, private: bool = False) -> None:
        """Write atomically (a reader never sees half a keystore); keys with mode 0600."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.directory, 0o700)
            descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            with os.fdopen(descriptor, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600 if private else 0o644)
                handle.write(content)
            os.replace(temporary, path)
        except OSError as error:
            raise PkiError(
                f"cannot write {path}: {error.strerror}; check the state folder "
                "(setting state_dir, EXCHANGE_STATE_DIR) is writable",
                setting="state_dir", path=path,
            ) from error


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as error:
        raise PkiError(
            f"cannot read the certificate in {path} ({error}); delete it and run "
            "`exchange broker up` to issue a new one", path=path,
        ) from error


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise PkiError(
            f"cannot read the CA key in {path} ({error}); delete the folder {path.parent} "
            "and run `exchange broker up` to make a new local CA", path=path,
        ) from error
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{path} is not an EC key; delete {path.parent} and run "
                       "`exchange broker up`", path=path)
    return key


def _signed_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _names_of(certificate: x509.Certificate) -> set[str]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return set()
    names: set[str] = set(extension.value.get_values_for_type(x509.DNSName))
    names |= {str(ip) for ip in extension.value.get_values_for_type(x509.IPAddress)}
    return names
