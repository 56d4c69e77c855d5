"""A small city DNA laboratory the tests run: its result feed over HTTPS (a certificate of the
test's local CA), as connectors/adapters/dna_lab.py reads it. ``status`` other than 200 makes
it answer that (503: down for maintenance); ``stop`` takes it off the network."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from exchange.tls.context import server_context
from exchange.tls.pki import LocalPki


@dataclass
class Laboratory:
    pki: LocalPki
    results: list[tuple[int, Any]] = field(default_factory=list)
    status: int = 200
    asked: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    def add(self, result: Any) -> int:
        seq = (self.results[-1][0] if self.results else 0) + 1
        self.results.append((seq, result))
        return seq

    async def _feed(self, request: web.Request) -> web.Response:
        self.asked.append(dict(request.query))
        if self.status != 200:
            return web.Response(status=self.status)
        after, limit = int(request.query["after"]), int(request.query["limit"])
        page = [{"seq": s, "result": r} for s, r in self.results if s > after][:limit]
        return web.Response(body=json.dumps({"results": page}), content_type="application/json")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/results", self._feed)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        certificate: Path = self.pki.server("dna-lab").path
        site = web.TCPSite(self._runner, "127.0.0.1", self.port,
                           ssl_context=server_context(certificate))
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/results"
