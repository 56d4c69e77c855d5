"""The layers of the code base, lowest first, and a check that every import points down.

A package may import from the packages of lower layers only: never from its own layer's
siblings, never from a higher layer. Read from the bottom: errors, the clock and the metrics
need nothing; TLS (the local CA, SSL contexts, handshake diagnoses) needs only the errors;
settings, credentials, models and schemas describe data; topology, the local broker, the codec
and the reading of outside bytes as text and JSON (inputs) use them; the pure rules and the
protection (seal, sign) sit on those; the client (publisher, consumer) and CAP use them;
examples and reports; the faust workflows; the demo; the ``exchange`` command. The connectors
are above the whole library: their SDK, the package's public names, the built-in adapters (on
the SDK only), the registry of kinds, and their ``exchange connect`` command, which
``exchange`` finds through an entry point (the library never imports ``connectors``).

Imports are read with :mod:`ast` (inside functions and ``TYPE_CHECKING`` blocks too: a
dependency there is still a dependency).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("exchange", "connectors")

LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(layer.split())
    for layer in (
        "exchange exchange.errors exchange.clock exchange.local_time exchange.metrics",
        "exchange.tls",
        "exchange.settings exchange.credentials exchange.models exchange.schemas",
        "exchange.topology exchange.broker exchange.codec exchange.inputs",
        "exchange.rules exchange.protection",
        "exchange.evidence",
        "exchange.client exchange.cap",
        "exchange.examples exchange.reports",
        "exchange.operations",
        "exchange.asyncapi",
        "exchange.docsite",
        "exchange.workflows",
        "exchange.demo",
        "exchange.cli",
        "connectors.sdk",
        "connectors",
        "connectors.adapters",
        "connectors.registry",
        "connectors.cli",
    )
)
LEVEL = {unit: level for level, layer in enumerate(LAYERS) for unit in layer}


def unit_of(module: str) -> str | None:
    """The layered unit a module belongs to: ``exchange.rules.geo`` → ``exchange.rules``."""
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    return ".".join(parts[:2])


def module_name(file: Path, root: Path = ROOT) -> str:
    parts = file.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(file: Path, root: Path = ROOT) -> Iterator[str]:
    """Every module ``file`` imports (absolute names; relative imports resolved)."""
    name = module_name(file, root)
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), str(file))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base)
            elif node.module:
                yield node.module


def sources(root: Path = ROOT) -> list[Path]:
    return sorted(f for package in PACKAGES for f in (root / package).rglob("*.py"))


def edges(root: Path = ROOT) -> dict[tuple[str, str], list[str]]:
    """(importer unit, imported unit) → the modules where that import is written."""
    found: dict[tuple[str, str], list[str]] = {}
    for file in sources(root):
        name = module_name(file, root)
        here = unit_of(name)
        assert here is not None
        for target in imported(file, root):
            there = unit_of(target)
            if there is not None and there != here:
                found.setdefault((here, there), []).append(f"{name} → {target}")
    return found


def upward(found: dict[tuple[str, str], list[str]]) -> list[str]:
    """The imports that do not point down, each with one place it is written."""
    return [
        f"{here} (layer {LEVEL[here]}) imports {there} (layer {LEVEL[there]}): {where[0]}"
        for (here, there), where in sorted(found.items())
        if LEVEL[there] >= LEVEL[here]
    ]


def test_every_package_has_a_layer() -> None:
    units = {unit_of(module_name(f)) for f in sources()}
    assert units - set(LEVEL) == set(), "place the new package in LAYERS"
    assert set(LEVEL) - units == set(), "a package in LAYERS no longer exists"


def test_imports_point_down() -> None:
    found = edges()
    assert ("exchange.rules", "exchange.models") in found  # the reader sees real imports
    assert upward(found) == []


def test_no_import_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for here, there in edges():
        graph.setdefault(here, set()).add(there)
    done: set[str] = set()

    def visit(unit: str, path: tuple[str, ...]) -> None:
        if unit in path:
            pytest.fail("import cycle: " + " → ".join([*path[path.index(unit) :], unit]))
        if unit in done:
            return
        for there in sorted(graph.get(unit, ())):
            visit(there, (*path, unit))
        done.add(unit)

    for unit in sorted(graph):
        visit(unit, ())


def test_the_check_finds_upward_and_sibling_imports(tmp_path: Path) -> None:
    """Relative, function-level and sibling imports are caught (else the checks pass idly)."""
    rules = tmp_path / "exchange" / "rules"
    rules.mkdir(parents=True)
    (tmp_path / "exchange" / "__init__.py").write_text("")
    (rules / "__init__.py").write_text("from . import geo\n")
    (rules / "geo.py").write_text(
        "from exchange.models import common\n"  # down: fine
        "def late():\n    from ..workflows import runtime\n"  # up, relative, in a function
    )
    (rules / "keys.py").write_text("import exchange.protection.keys\n")  # a sibling
    assert upward(edges(tmp_path)) == [
        f"exchange.rules (layer {LEVEL['exchange.rules']}) imports exchange.protection "
        f"(layer {LEVEL['exchange.protection']}): exchange.rules.keys → exchange.protection.keys",
        f"exchange.rules (layer {LEVEL['exchange.rules']}) imports exchange.workflows "
        f"(layer {LEVEL['exchange.workflows']}): exchange.rules.geo → exchange.workflows",
    ]
