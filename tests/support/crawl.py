"""Serve a folder on loopback and crawl it in the browser: every internal link followed, every
page's status, JavaScript errors, failed loads and missing #anchors reported as problems."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

from support.cdp import Tab, Visit


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """``http://127.0.0.1:<free port>/`` serving ``root`` until the block ends."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def crawl(tab: Tab, base: str, start: str = "index.html") -> tuple[dict[str, Visit],
                                                                          list[str]]:
    """Every page reachable from ``start`` by internal links, and the problems found."""
    visits: dict[str, Visit] = {}
    problems: list[str] = []
    anchors: list[tuple[str, str, str]] = []  # (page, target, fragment)
    queue = [base + start]
    while queue:
        url = queue.pop(0)
        if url in visits:
            continue
        visit = visits[url] = await tab.visit(url)
        if visit.status != 200:
            problems.append(f"{url}: missing page (HTTP {visit.status})")
        problems.extend(f"{url}: {error}" for error in visit.errors)
        for link in visit.links:
            target, fragment = urldefrag(link)
            if not target.startswith(base):
                continue
            if fragment:
                anchors.append((url, target, fragment))
            if target not in visits:
                queue.append(target)
    for page, target, fragment in anchors:
        if target in visits and fragment not in visits[target].ids:
            problems.append(f"{page}: broken link to {target}#{fragment} (no such anchor)")
    return visits, problems
