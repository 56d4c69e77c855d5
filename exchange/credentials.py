"""Development credential store: one file per principal holding its SCRAM password.

``exchange broker up`` writes the ``admin`` password here; ``exchange topology apply`` creates
one for each agency principal it provisions; the CLI's ``--as AGENCY`` reads them. Files are
created with mode 0600 in a folder with mode 0700. For a production cluster, give the
principal's password through settings instead (``EXCHANGE_KAFKA__PASSWORD``) from your secret
manager; this store is for the local broker and tests.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class CredentialStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, principal: str) -> Path:
        if not principal or "/" in principal or principal.startswith("."):
            raise ValueError(f"not a principal name: {principal!r}")
        return self.directory / principal

    def get(self, principal: str) -> str | None:
        """The stored password of ``principal``, or None when it has none."""
        try:
            return self._path(principal).read_text().strip()
        except FileNotFoundError:
            return None

    def password_for(self, principal: str) -> str:
        """The stored password of ``principal``, generated and stored on first use."""
        existing = self.get(principal)
        if existing:
            return existing
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        password = secrets.token_urlsafe(24)
        path = self._path(principal)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        return password
