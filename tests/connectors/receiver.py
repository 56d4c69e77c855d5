"""A real HTTP endpoint standing in for an agency system (webhook and CAP tests)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every request; ``answer`` decides the status (200 unless told otherwise)."""

    answer: Callable[[Delivery], int] = lambda _: 200
    delay: float = 0.0
    requests: list[Delivery] = field(default_factory=list)
    accepted: list[Delivery] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        delivery = Delivery(dict(request.headers), await request.read())
        self.requests.append(delivery)
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.answer(delivery)
        if 200 <= status < 300:
            self.accepted.append(delivery)
        return web.Response(status=status, headers={"Retry-After": "0.1"})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"
