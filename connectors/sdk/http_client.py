"""One HTTP client session for a connector: opened in its ``setup``, closed in its ``close``.

Every connector that speaks HTTP to an agency system (the sinks that POST, the DNA laboratory's
feed and request sinks) holds an :class:`HttpClient` instead of an ``aiohttp`` session of its
own: one place for the timeout, the CA that signed the system's certificate (default: the
system's trust store), the bearer token read from a file (kept out of the config) and the
"call setup() first" check.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import aiohttp

from exchange.tls.context import client_context

__all__ = ["HttpClient"]


class HttpClient:
    def __init__(
        self, *, timeout_s: float, ca_file: Path | None = None, token_file: Path | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.timeout_s = timeout_s
        self.ca_file = ca_file
        self.token_file = token_file
        self.headers = dict(headers or {})
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        headers = dict(self.headers)
        if self.token_file is not None:
            token = self.token_file.read_text(encoding="utf-8").strip()
            headers["Authorization"] = f"Bearer {token}"
        ssl = client_context(cafile=self.ca_file, setting="connector.ca_file")
        self._session = aiohttp.ClientSession(
            headers=headers, connector=aiohttp.TCPConnector(ssl=ssl),
            timeout=aiohttp.ClientTimeout(total=self.timeout_s),
        )  # fmt: skip

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("call setup() first")
        return self._session
