"""The built-in adapters, one per module, each built on :mod:`connectors.sdk` only.

Sources: ``http_gateway`` (agencies POST events; its OpenAPI document in ``http_openapi``),
``file_drop`` (CSV/JSON files in a folder), ``outbox`` (a transactional outbox table; its
SQLite and PostgreSQL access in ``outbox_db``). Sinks: ``webhook`` (signed CloudEvents to an
agency's endpoint) and ``cap_sink`` (emergency alerts as CAP 1.2 to public-alert systems and a
screens' folder). :mod:`connectors.registry` names them by ``kind``; nothing imports them
eagerly, so an adapter's optional dependency is needed only when it runs.
"""
