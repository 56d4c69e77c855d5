"""A small Chrome DevTools Protocol client for the browser tests: starts the system's headless
Chromium on loopback (no downloaded browser), opens pages, collects JavaScript errors and failed
loads, lists links, takes screenshots. One tab, one session, JSON over one websocket."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from websockets.asyncio.client import ClientConnection, connect

_LISTENING = re.compile(r"DevTools listening on (ws://127\.0\.0\.1:\d+/\S+)")


@dataclass
class Visit:
    """What opening one URL gave: the document's HTTP status, the links on the page, the ids
    of its elements, and every error (JS exceptions, console errors, failed loads)."""

    url: str
    status: int | None = None
    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


class Tab:
    def __init__(
        self, socket: ClientConnection, session: str,
        pending: dict[int, asyncio.Future[dict[str, Any]]], ids: itertools.count[int],
    ) -> None:
        self._socket = socket
        self._session = session
        self._ids = ids
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._pending = pending

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        return await call(self._socket, self._pending, next(self._ids), method, params,
                          session=self._session)

    def _deliver(self, message: dict[str, Any]) -> None:
        if message.get("sessionId") == self._session and "method" in message:
            self._events.put_nowait(message)

    async def visit(self, url: str, timeout_s: float = 30.0) -> Visit:
        visit = Visit(url)
        while not self._events.empty():
            self._events.get_nowait()
        answer = await self.call("Page.navigate", url=url)
        if answer.get("errorText"):
            visit.errors.append(f"navigation failed: {answer['errorText']}")
            return visit
        async with asyncio.timeout(timeout_s):
            while True:
                event = await self._events.get()
                self._note(event, visit)
                if event["method"] == "Page.loadEventFired":
                    break
        await asyncio.sleep(0.05)  # errors raised by onload handlers
        while not self._events.empty():
            self._note(self._events.get_nowait(), visit)
        found = await self.call(
            "Runtime.evaluate", returnByValue=True,
            expression="({links: Array.from(document.querySelectorAll('a[href]'), a => a.href),"
            " ids: Array.from(document.querySelectorAll('[id]'), e => e.id)})",
        )
        value = found["result"]["value"]
        visit.links, visit.ids = value["links"], set(value["ids"])
        return visit

    @staticmethod
    def _note(event: dict[str, Any], visit: Visit) -> None:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            visit.errors.append(f"JavaScript exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            visit.errors.append(f"console.error: {args}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            visit.errors.append(f"browser log: {params['entry']['text']}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            visit.errors.append(f"failed to load a resource: {params['errorText']}")
        elif method == "Network.responseReceived" and params.get("type") == "Document":
            visit.status = params["response"]["status"]
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            visit.errors.append(f"{params['response']['status']} for {params['response']['url']}")

    async def screenshot(self, path: Path, width: int = 1280, height: int = 900) -> None:
        await self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=False)
        shot = await self.call("Page.captureScreenshot", format="png")
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))


async def call(
    socket: ClientConnection, pending: dict[int, asyncio.Future[dict[str, Any]]], number: int,
    method: str, params: dict[str, Any], *, session: str | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"id": number, "method": method, "params": params}
    if session:
        message["sessionId"] = session
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    pending[number] = future
    await socket.send(json.dumps(message))
    answer = await asyncio.wait_for(future, 30)
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    result: dict[str, Any] = answer.get("result", {})
    return result


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("no chromium on PATH: apt-get install chromium (.ci/run does)")
    return found


@contextlib.asynccontextmanager
async def browser_tab() -> AsyncIterator[Tab]:
    """Headless Chromium on a free loopback port, with one tab whose events are enabled."""
    with (tempfile.TemporaryDirectory(prefix="exchange-chromium-",
                                      ignore_cleanup_errors=True) as profile,
          (Path(profile) / "chromium.log").open("w+") as log):
        process = _launch(Path(profile), log)
        try:
            url = await _devtools_url(process, Path(log.name))
            async with connect(url, max_size=None) as socket:
                pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
                tabs: list[Tab] = []
                reader = asyncio.create_task(_read(socket, pending, tabs))
                try:
                    target = await call(socket, pending, 1, "Target.createTarget",
                                        {"url": "about:blank"})
                    attached = await call(socket, pending, 2, "Target.attachToTarget",
                                          {"targetId": target["targetId"], "flatten": True})
                    tab = Tab(socket, attached["sessionId"], pending, itertools.count(3))
                    tabs.append(tab)
                    for domain in ("Page", "Runtime", "Log", "Network"):
                        await tab.call(f"{domain}.enable")
                    yield tab
                    await call(socket, pending, next(tab._ids), "Browser.close", {})
                finally:
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
        finally:
            _stop(process)


def _launch(profile: Path, log: IO[str]) -> subprocess.Popen[bytes]:
    """Start Chromium in a process group of its own (so its helpers stop with it)."""
    return subprocess.Popen(
        [chromium_path(), "--headless=new", "--no-sandbox", "--disable-gpu",
         "--no-first-run", "--no-default-browser-check", "--disable-extensions",
         "--disable-background-networking", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the browser and its helpers: the process group this module started, by its id."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue
        else:
            return


async def _devtools_url(process: subprocess.Popen[bytes], log: Path) -> str:
    """The browser's websocket URL, from the line Chromium writes when it listens."""
    for _ in range(300):
        text = await asyncio.to_thread(log.read_text, errors="replace")
        match = _LISTENING.search(text)
        if match:
            return match.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited ({process.returncode}): {text}")
        await asyncio.sleep(0.1)
    raise RuntimeError("chromium did not open DevTools within 30 s")


async def _read(
    socket: ClientConnection, pending: dict[int, asyncio.Future[dict[str, Any]]],
    tabs: list[Tab],
) -> None:
    async for raw in socket:
        message = json.loads(raw)
        if "id" in message:
            future = pending.pop(message["id"], None)
            if future is not None and not future.done():
                future.set_result(message)
        else:
            for tab in tabs:
                tab._deliver(message)
