"""Which class runs which ``kind`` of connector, and loading a config file into it.

Built-in kinds are imported only when used, so an adapter's optional dependency (psycopg for
the PostgreSQL outbox) is needed only by that adapter. Any other ``kind`` is an import path
``package.module:ClassName`` naming a :class:`~connectors.sdk.base.Connector` subclass: a new
adapter needs no change here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from connectors.sdk.base import Connector
from connectors.sdk.config import ConnectorConfig, read_config_file, validate_config
from connectors.sdk.exceptions import ConnectorConfigError, MissingExtraError
from exchange.models.exceptions import FieldError

BUILTIN: dict[str, str] = {
    "http-gateway": "connectors.adapters.http_gateway:HttpGateway",
    "file-drop": "connectors.adapters.file_drop:FileDropSource",
    "outbox": "connectors.adapters.outbox:OutboxSource",
    "webhook": "connectors.adapters.webhook:WebhookSink",
    "cap": "connectors.adapters.cap_sink:CapSink",
    "dna-lab": "connectors.adapters.dna_lab:DnaLabSource",
}


def connector_class(kind: str) -> type[Connector[Any]]:
    """The connector class of ``kind`` (built-in name or ``module:Class``)."""
    target = BUILTIN.get(kind, kind)
    module_name, _, class_name = target.partition(":")
    if not class_name:
        known = ", ".join(BUILTIN)
        raise ConnectorConfigError(
            Path("<config>"),
            [FieldError("kind", "unknown_kind", f"{kind!r}: use one of {known} or module:Class")],
        )
    try:
        module = importlib.import_module(module_name)
        found = getattr(module, class_name)
    except (ImportError, AttributeError) as error:
        if isinstance(error, MissingExtraError):
            raise
        raise ConnectorConfigError(
            Path("<config>"), [FieldError("kind", "not_importable", f"{target}: {error}")]
        ) from None
    if not (isinstance(found, type) and issubclass(found, Connector)):
        raise ConnectorConfigError(
            Path("<config>"), [FieldError("kind", "not_a_connector", f"{target} is no Connector")]
        )
    return found


def load_config(path: Path) -> tuple[type[Connector[Any]], ConnectorConfig]:
    """Read ``path``, find its ``kind``'s class and validate the file as that class's config."""
    data = read_config_file(path)
    kind = data.get("kind")
    if not isinstance(kind, str):
        raise ConnectorConfigError(path, [FieldError("kind", "missing", "name the adapter")])
    try:
        cls = connector_class(kind)
    except ConnectorConfigError as error:
        raise ConnectorConfigError(path, error.errors) from None
    return cls, validate_config(cls.config_model, data, path)
