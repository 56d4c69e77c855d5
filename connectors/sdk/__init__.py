"""The connectors' SDK: what a connector developer builds on (see connectors/GUIDE.md).

- :mod:`~connectors.sdk.base`: :class:`Connector` (lifecycle setup → run → flush → close) and
  the :class:`ConnectorContext` it runs in;
- :mod:`~connectors.sdk.source` and :mod:`~connectors.sdk.sink`: records onto the bus, events
  out of it; :mod:`~connectors.sdk.http_sink`: a sink that POSTs to HTTP endpoints;
- :mod:`~connectors.sdk.config` (typed configs, TOML/JSON files), :mod:`~connectors.sdk.retry`
  (backoff), :mod:`~connectors.sdk.progress` (positions kept across restarts),
  :mod:`~connectors.sdk.metrics`, :mod:`~connectors.sdk.exceptions`;
- :mod:`~connectors.sdk.testing`: the harness that runs a connector against a real broker.

Nothing here imports an adapter; the adapters (:mod:`connectors.adapters`) import only this.
"""
