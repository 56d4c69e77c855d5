"""SSL contexts for the bus's clients and servers, TLS 1.2 or newer, verifying by default.

A client context verifies the server's chain against ``cafile`` (or the system's CAs when no
file is given) and the host name; a missing or unreadable file fails at once with one line that
names the file and the setting that points at it, instead of a handshake error later.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from exchange.tls.exceptions import TlsFileError

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


def _env(setting: str) -> str:
    return "EXCHANGE_" + setting.upper().replace(".", "__")


def file_problem(path: Path, setting: str, what: str, hint: str) -> TlsFileError:
    """A one-line error about ``path`` (named by ``setting``) that says what to do."""
    if not path.exists():
        problem = "does not exist"
    elif not path.is_file():
        problem = "is not a file"
    else:
        problem = "is not a readable PEM " + what
    return TlsFileError(
        f"{what} file {path} (setting {setting}, {_env(setting)}) {problem}; {hint}",
        setting=setting, path=path,
    )


CA_HINT = (
    "run `exchange broker up` to make the local CA (<state>/pki/ca.crt), or point the setting "
    "at the CA that signed your cluster's certificates"
)


def client_context(
    *, cafile: Path | None = None, certfile: Path | None = None, keyfile: Path | None = None,
    setting: str = "kafka",
) -> ssl.SSLContext:
    """A client context verifying the server against ``cafile`` (and its host name), with an
    optional client certificate. ``setting`` is the settings prefix named in errors."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = MINIMUM_VERSION
    if cafile is not None:
        try:
            context.load_verify_locations(cafile=str(cafile))
        except (OSError, ssl.SSLError) as error:
            raise file_problem(cafile, f"{setting}.ssl_cafile", "CA certificate", CA_HINT) \
                from error
    if certfile is not None:
        try:
            context.load_cert_chain(str(certfile), str(keyfile) if keyfile else None)
        except (OSError, ssl.SSLError) as error:
            bad, name = (
                (keyfile, "ssl_keyfile") if keyfile and not keyfile.is_file()
                else (certfile, "ssl_certfile")
            )
            raise file_problem(
                bad, f"{setting}.{name}", "client certificate and key",
                "give the PEM certificate (and its key) issued to this client",
            ) from error
    return context


def server_context(
    certfile: Path, *, keyfile: Path | None = None, client_cafile: Path | None = None,
    setting: str = "tls",
) -> ssl.SSLContext:
    """A server context presenting ``certfile`` (a PEM with the key, or with ``keyfile``);
    with ``client_cafile`` it asks for client certificates signed by those CAs."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = MINIMUM_VERSION
    try:
        context.load_cert_chain(str(certfile), str(keyfile) if keyfile else None)
    except (OSError, ssl.SSLError) as error:
        raise file_problem(
            certfile, f"{setting}.certfile", "server certificate and key",
            "give the PEM certificate chain and key of this server",
        ) from error
    if client_cafile is not None:
        try:
            context.load_verify_locations(cafile=str(client_cafile))
        except (OSError, ssl.SSLError) as error:
            raise file_problem(
                client_cafile, f"{setting}.client_cafile", "client CA certificate",
                "give the CA that signs the callers' certificates",
            ) from error
        context.verify_mode = ssl.CERT_OPTIONAL
    return context
