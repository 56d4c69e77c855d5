"""Write the whole site into a folder: pages, the stylesheet, the AsyncAPI documents (bus and
one per agency) and the gateway's OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from exchange.asyncapi import build_document
from exchange.docsite import pages_agency, pages_connectors, pages_events, pages_overview
from exchange.docsite import pages_reference as ref
from exchange.docsite.data import SiteData, agency_page, event_page
from exchange.docsite.favicon import FAVICON_FILE, favicon
from exchange.docsite.html import CSS, CSS_FILE


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def render_site(data: SiteData) -> dict[str, str]:
    """Every file of the site: path from the root -> text."""
    files = {
        CSS_FILE: CSS.lstrip(),
        "index.html": pages_overview.index(data),
        "agencies.html": pages_overview.agencies(data),
        "topics.html": pages_overview.topics(data),
        "sensitivity.html": pages_overview.sensitivity(data),
        "events.html": pages_events.events(data),
        "validation.html": ref.validation(),
        "gateway.html": ref.gateway(data.connectors.openapi),
        "connectors.html": pages_connectors.connectors(data.connectors),
        "dead-letters.html": ref.dead_letters(),
        "gateway/openapi.json": _json(data.connectors.openapi),
        "asyncapi/bus.json": _json(build_document(data.topology, data.catalogue,
                                                  data.bootstrap)),
    }
    for agency in data.topology.agencies:
        files[agency_page(agency.id)] = pages_agency.agency(data, agency.id)
        files[f"asyncapi/{agency.id}.json"] = _json(
            build_document(data.topology, data.catalogue, data.bootstrap, agency.id)
        )
    for event in data.event_types():
        files[event_page(event)] = pages_events.event(data, event)
    return files


def build_site(out: Path, data: SiteData) -> list[Path]:
    """Write the site into ``out`` (created if needed); the files written, sorted."""
    out.mkdir(parents=True, exist_ok=True)
    (out / FAVICON_FILE).write_bytes(favicon())
    written = [out / FAVICON_FILE]
    for relative, text in sorted(render_site(data).items()):
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return sorted(written)
