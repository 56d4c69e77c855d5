"""Publish new schema versions: ``exchange schemas freeze``.

For each event whose current source differs from its latest published version (in canonical
form, or only in docs and sensitivity tags, which drive redaction and so matter too), and which
can read every published version, write ``published/<event>/v<N+1>.avsc``. Nothing is written
unless every changed event passes: an incompatible change raises
:class:`~exchange.schemas.exceptions.SchemaIncompatibleError` and the catalogue stays as it was.
Published files are machine-written; never edit them by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from exchange.schemas.catalogue import PUBLISHED_DIR, Catalogue, SchemaVersion
from exchange.schemas.compat import check_compatible
from exchange.schemas.exceptions import SchemaIncompatibleError

__all__ = ["dump_schema", "freeze", "pending_versions"]


def dump_schema(schema: dict[str, Any]) -> str:
    """The text of a published file: stable, readable, UTF-8 (docs carry Chinese terms)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def pending_versions(catalogue: Catalogue) -> list[SchemaVersion]:
    """The versions :func:`freeze` would write, after checking them against every published one."""
    pending: list[SchemaVersion] = []
    for event_type in catalogue.event_types:
        if event_type not in catalogue.sources:
            continue
        current = catalogue.current(event_type)
        published = catalogue.versions(event_type)
        if published and published[-1].schema == current:
            continue
        number = len(published) + 1
        for writer in published:
            details = check_compatible(current, writer.schema)
            if details:
                raise SchemaIncompatibleError(event_type, number, writer.version, details)
        path = catalogue.root / PUBLISHED_DIR / event_type / f"v{number}.avsc"
        pending.append(SchemaVersion.build(event_type, number, current, path))
    return pending


def freeze(root: Path | None = None) -> list[Path]:
    """Write the new published versions of a schema folder; returns the files written."""
    catalogue = Catalogue.load(root)
    written: list[Path] = []
    for version in pending_versions(catalogue):
        path = catalogue.root / PUBLISHED_DIR / version.event_type / f"v{version.version}.avsc"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_schema(version.schema), encoding="utf-8")
        written.append(path)
    return written
