"""Say why a connection to a TLS server failed, in one line naming the file or setting to fix.

The Kafka clients report a failed TLS handshake as "Unable to bootstrap" (aiokafka) or
"NoBrokersAvailable" (kafka-python) and log the cause. When a client fails to connect, the
bus probes the first reachable bootstrap server with one handshake of its own (nothing is
sent after it) and turns what it learns into a :class:`TlsHandshakeError`:

- ``wrong-ca``: the server's chain does not lead to the CA in ``ssl_cafile``;
- ``expired``: the CA file's certificate, or the server's, has expired;
- ``hostname``: the server's certificate does not name the host connected to;
- ``plaintext-client``: the client speaks plaintext, the server TLS;
- ``tls-client-on-plaintext``: the client speaks TLS, the server plaintext.

No answer (``None``) means the handshake is not the problem (the server is down, or the
failure is authentication or authorization, reported as such by the client).
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from pathlib import Path

from cryptography import x509

from exchange.tls.exceptions import TlsHandshakeError

PROBE_TIMEOUT_S = 3.0

# OpenSSL's X509_V_ERR_* codes, as ssl.SSLCertVerificationError.verify_code reports them.
_EXPIRED = {10}
_UNTRUSTED = {2, 18, 19, 20, 21}
_HOSTNAME = {62, 64}  # host name, IP address mismatch


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.strip().rpartition(":")
    return host.strip("[]"), int(port)


def probe(
    address: str, *, context: ssl.SSLContext | None, cafile: Path | None,
    setting: str = "kafka", timeout_s: float = PROBE_TIMEOUT_S,
) -> TlsHandshakeError | None:
    """Handshake with ``address`` as a client configured like the failing one would: with
    ``context`` (TLS) or without (plaintext); return what went wrong, if it was TLS."""
    host, port = split_address(address)
    try:
        raw = socket.create_connection((host, port), timeout=timeout_s)
    except OSError:
        return None
    with raw:
        if context is None:
            return _plaintext_client(raw, address, setting)
        return _tls_client(raw, address, context, cafile, setting)


def _plaintext_client(raw: socket.socket, address: str, setting: str) -> TlsHandshakeError | None:
    """Does the server answer a TLS handshake? Then the client should have spoken TLS."""
    # Only to learn whether the port speaks TLS: nothing is sent after the handshake.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with context.wrap_socket(raw) as tls:
            tls.version()
    except (OSError, ssl.SSLError):
        return None
    return TlsHandshakeError(
        f"the broker at {address} speaks TLS but setting {setting}.security_protocol is "
        f"plaintext: set {setting}.security_protocol=SASL_SSL "
        f"(EXCHANGE_{setting.upper()}__SECURITY_PROTOCOL) and {setting}.ssl_cafile to the "
        "cluster's CA",
        reason="plaintext-client", address=address, setting=f"{setting}.security_protocol",
    )


def _tls_client(
    raw: socket.socket, address: str, context: ssl.SSLContext, cafile: Path | None,
    setting: str,
) -> TlsHandshakeError | None:
    host, _ = split_address(address)
    try:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            tls.version()
    except ssl.SSLCertVerificationError as error:
        return _unverified(error, address, cafile, setting)
    except ssl.SSLError as error:
        return TlsHandshakeError(
            f"the server at {address} does not speak TLS ({error.reason}) but setting "
            f"{setting}.security_protocol asks for it: use the cluster's TLS port in "
            f"{setting}.bootstrap_servers",
            reason="tls-client-on-plaintext", address=address,
            setting=f"{setting}.bootstrap_servers",
        )
    except OSError:
        return None
    return None


def _unverified(
    error: ssl.SSLCertVerificationError, address: str, cafile: Path | None, setting: str
) -> TlsHandshakeError:
    """Which certificate failed, and which file or setting to fix."""
    ca_setting = f"{setting}.ssl_cafile"
    ca_env = f"EXCHANGE_{setting.upper()}__SSL_CAFILE"
    trusted = f"the CA in {cafile} (setting {ca_setting})" if cafile else (
        f"the system's CAs (setting {ca_setting} is not set)"
    )
    code = error.verify_code
    expired_ca = _expired_on(cafile) if cafile and code in _EXPIRED else None
    if expired_ca is not None:
        message = (
            f"the CA certificate in {cafile} (setting {ca_setting}, {ca_env}) expired on "
            f"{expired_ca:%Y-%m-%d}: replace it with the cluster's current CA (the local "
            "broker's is <state>/pki/ca.crt)"
        )
        return TlsHandshakeError(
            message, reason="expired", address=address, setting=ca_setting, path=cafile
        )
    if code in _EXPIRED:
        message = (
            f"the broker at {address} presents an expired certificate: renew it (for the local "
            "broker `exchange broker down && exchange broker up` renews <state>/pki/node-*.pem)"
            ", or ask the cluster's operator"
        )
        return TlsHandshakeError(message, reason="expired", address=address)
    if code in _HOSTNAME:
        message = (
            f"the broker's certificate does not name {split_address(address)[0]!r}: connect by "
            f"a name it carries (setting {setting}.bootstrap_servers) or reissue its certificate"
        )
        return TlsHandshakeError(
            message, reason="hostname", address=address, setting=f"{setting}.bootstrap_servers"
        )
    reason = "wrong-ca" if code in _UNTRUSTED else "unverified"
    message = (
        f"the broker at {address} presents a certificate not signed by {trusted}: point "
        f"{ca_setting} ({ca_env}) at the CA that signed the cluster's certificates (the local "
        "broker's is <state>/pki/ca.crt)"
        if code in _UNTRUSTED else
        f"the broker's certificate at {address} failed verification against {trusted}: "
        f"{error.verify_message}; check {ca_setting} ({ca_env})"
    )
    return TlsHandshakeError(
        message, reason=reason, address=address, setting=ca_setting, path=cafile
    )


def _expired_on(cafile: Path) -> dt.datetime | None:
    """When the first certificate in ``cafile`` expired, or None if it has not (or is not
    readable: the context would have refused it already)."""
    try:
        certificate = x509.load_pem_x509_certificate(cafile.read_bytes())
    except (OSError, ValueError):
        return None
    not_after = certificate.not_valid_after_utc
    return not_after if not_after < dt.datetime.now(dt.UTC) else None
