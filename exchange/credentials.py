"""Where the SCRAM passwords of principals live: one file per principal.

``<directory>/<principal>`` holds the password (mode 0600, the directory 0700). ``apply``
creates a missing user with :meth:`CredentialStore.password_for`, which generates a random
password on first use; the agency's system is then configured with that file's content.
``exchange broker up`` keeps the ``admin`` password here too, and the CLI's ``--as AGENCY``
reads it. Suitable for development and small deployments; in production give the principal's
password through settings (``EXCHANGE_KAFKA__PASSWORD``) from a secrets manager, or replace the
store behind the same two methods.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from exchange.errors import SettingsError

_PRINCIPAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class CredentialStore:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _file(self, principal: str) -> Path:
        if not _PRINCIPAL.match(principal):
            raise SettingsError(
                "principal", f"{principal!r} cannot name a credential file; use letters, "
                "digits, '.', '_' and '-' only",
            )
        return self.directory / principal

    def get(self, principal: str) -> str | None:
        """The stored password, or None when there is none."""
        file = self._file(principal)
        try:
            return file.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def password_for(self, principal: str) -> str:
        """The stored password; a new random one (written with mode 0600) if there is none."""
        existing = self.get(principal)
        if existing is not None:
            return existing
        password = secrets.token_urlsafe(24)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        file = self._file(principal)
        try:
            descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first (or it is empty)
            theirs = self.get(principal)
            if theirs is None:
                raise SettingsError(
                    "credentials", f"file {file} is empty; delete it to generate a new password"
                ) from None
            return theirs
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(password + "\n")
        return password
