"""The integrators' documentation site: plain HTML and CSS generated from the topology, the
schemas, the entitlements, the validators, the gateway's OpenAPI document and the connectors'
config models (``exchange docs --out DIR``); readable offline, no script, no server."""

from exchange.docsite.build import build_site, render_site
from exchange.docsite.data import SiteData

__all__ = ["SiteData", "build_site", "render_site"]
