"""Errors of TLS set-up and connections (a branch of :class:`exchange.errors.ExchangeError`)::

    TlsError                     .setting: the setting to fix, .path: the file to fix (or None)
    ├── PkiError                 the local CA or a certificate could not be made or read
    ├── TlsFileError             a CA, certificate or key file named by a setting is unusable
    └── TlsHandshakeError        .reason: wrong-ca | expired | hostname | plaintext-client |
                                 tls-client-on-plaintext | refused
                                 a connection failed its TLS handshake (or never tried one)

Every message is one line that names the file or the setting to fix.
"""

from __future__ import annotations

from pathlib import Path

from exchange.errors import ExchangeError


class TlsError(ExchangeError):
    """TLS could not be set up or a TLS connection failed."""

    def __init__(self, message: str, *, setting: str | None = None, path: Path | None = None):
        self.setting = setting
        self.path = path
        super().__init__(message)


class PkiError(TlsError):
    """The local certificate authority or a certificate it issues could not be made or read."""


class TlsFileError(TlsError):
    """A CA bundle, certificate or key that a setting names is missing or unreadable."""


class TlsHandshakeError(TlsError):
    """A connection to ``address`` failed its TLS handshake; ``reason`` says why."""

    def __init__(
        self, message: str, *, reason: str, address: str, setting: str | None = None,
        path: Path | None = None,
    ) -> None:
        self.reason = reason
        self.address = address
        super().__init__(message, setting=setting, path=path)
