"""Who may read which sensitive category in clear: ``topology/entitlements.toml`` as a model.

A sealed field goes to the readers of its topic that hold *every* category of its tags (a
missing child's name, tagged ``identity`` and ``minor``, needs both).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from exchange.models.sensitivity import SENSITIVITY_TAGS
from exchange.protection.exceptions import EntitlementError
from exchange.topology.loader import default_topology_dir
from exchange.topology.model import Topology

ENTITLEMENTS_FILE = "entitlements.toml"


@dataclass(frozen=True)
class Entitlements:
    """Granted categories per agency id (an agency not in the map has none)."""

    grants: dict[str, frozenset[str]]
    reasons: dict[str, str]

    def categories_of(self, agency: str) -> frozenset[str]:
        return self.grants.get(agency, frozenset())

    def may_read(self, agency: str, tags: Iterable[str]) -> bool:
        return frozenset(tags) <= self.categories_of(agency)

    def recipients(self, readers: Iterable[str], tags: frozenset[str]) -> tuple[str, ...]:
        """The ``readers`` entitled to every one of ``tags``, in a stable order."""
        return tuple(sorted(r for r in set(readers) if tags <= self.categories_of(r)))


def load_entitlements(root: Path | None = None, topology: Topology | None = None) -> Entitlements:
    """Read and check ``entitlements.toml`` (every agency known, every category a real tag)."""
    file = (default_topology_dir() if root is None else root) / ENTITLEMENTS_FILE
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise EntitlementError(str(file), f"cannot read: {error}") from error
    known = {a.id for a in topology.agencies} if topology is not None else None
    grants: dict[str, frozenset[str]] = {}
    reasons: dict[str, str] = {}
    for i, entry in enumerate(data.get("agency", [])):
        where = f"{file.name} agency[{entry.get('id', i)}]"
        agency = entry.get("id")
        categories = entry.get("categories")
        why = entry.get("why")
        if not isinstance(agency, str) or not isinstance(categories, list) or not why:
            raise EntitlementError(where, "needs id, categories (a list) and why")
        if known is not None and agency not in known:
            raise EntitlementError(where, f"unknown agency {agency!r} (see agencies.toml)")
        unknown = set(categories) - SENSITIVITY_TAGS
        if unknown:
            raise EntitlementError(
                where, f"unknown categories {sorted(unknown)}; use {sorted(SENSITIVITY_TAGS)}"
            )
        if agency in grants:
            raise EntitlementError(where, "agency listed twice")
        grants[agency] = frozenset(categories)
        reasons[agency] = str(why)
    return Entitlements(grants, reasons)
