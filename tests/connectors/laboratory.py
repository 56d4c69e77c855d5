"""A small city DNA laboratory the tests run: its result feed over HTTPS (a certificate of the
test's local CA), as connectors/adapters/dna_lab.py reads it, and its request intake, as
connectors/adapters/dna_lab_requests.py posts to it. ``status`` other than 200 makes the feed
answer that (503: down for maintenance); ``intake`` says what the intake answers a request
(default 200; the same request again, by its Idempotency-Key, is taken once); ``stop`` takes
it off the network."""

from __future__ import annotations

import json
from collections.abc import Callable
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
    intake: Callable[[dict[str, Any]], int] = lambda _request: 200
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Requests taken, by Idempotency-Key, in the order they came."""
    posts: list[dict[str, str]] = field(default_factory=list)
    """The headers of every POST to the intake (repeats and refusals too)."""
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

    async def _intake(self, request: web.Request) -> web.Response:
        self.posts.append(dict(request.headers))
        key = request.headers.get("Idempotency-Key")
        if not key or request.content_type != "application/json":
            return web.Response(status=400, text="Idempotency-Key and JSON required")
        body = json.loads(await request.read())
        status = self.intake(body)
        if 200 <= status < 300:
            self.requests.setdefault(key, body)
        return web.Response(status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/results", self._feed)
        app.router.add_post("/requests", self._intake)
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

    @property
    def intake_url(self) -> str:
        return f"https://127.0.0.1:{self.port}/requests"
