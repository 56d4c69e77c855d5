"""Which values of an event are sealed, driven by the schemas' ``sensitivity`` tags.

:func:`plan_for` walks an expanded Avro record schema once and lists its *sealed leaves*: every
field whose effective tags (own + inherited from enclosing fields, as in
:mod:`exchange.models.sensitivity`) are non-empty and that is not itself a record. Records are
walked into, so a missing child's ``gender`` (``minor``) and ``name`` (``identity`` + ``minor``)
are sealed separately and each goes to the agencies entitled to its own tags. Arrays of records
are walked element by element (``victims.0.person.name``: the number of elements shows, not
their content); other arrays and maps are leaves, sealed whole under the union of every tag
inside them (the strictest reading).

A sealed leaf is replaced in the Avro body by a placeholder of its type: ``null`` for an
optional field, else the type's zero (``""``, ``0``, ``false``, ``[]``, the first enum symbol).
The body stays valid single-object Avro of the event's own schema (DESIGN.md §2); which paths are
placeholders is said by the ``exchange.sealed`` header, so no reader mistakes a zero for data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from exchange.models._avro import Names

Path = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SealedLeaf:
    path: Path
    tags: frozenset[str]
    placeholder: Any

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class SealPlan:
    """The sealed leaves of one schema, grouped by tag set (one data key per group)."""

    event_type: str
    leaves: tuple[SealedLeaf, ...]
    groups: tuple[tuple[frozenset[str], tuple[SealedLeaf, ...]], ...]
    tree: dict[str, Any]  # path steps -> subtree or leaf: one walk of the data takes them all

    def take_all(self, data: dict[str, Any]) -> dict[frozenset[str], dict[str, Any]]:
        """Every present leaf's value by tag set and dotted path; placeholders put in ``data``.

        A leaf under an absent optional record, or an optional leaf that is ``None``, carries
        nothing and is skipped.
        """
        taken: dict[frozenset[str], dict[str, Any]] = {}
        _walk_take(data, self.tree, "", taken)
        return taken


def plan_for(schema: dict[str, Any]) -> SealPlan:
    names = Names(schema)
    leaves: list[SealedLeaf] = []
    _record(schema, schema.get("namespace", ""), frozenset(), names, (), leaves)
    by_tags: dict[frozenset[str], list[SealedLeaf]] = {}
    for leaf in leaves:
        by_tags.setdefault(leaf.tags, []).append(leaf)
    groups = tuple(
        (tags, tuple(found)) for tags, found in sorted(by_tags.items(), key=lambda g: sorted(g[0]))
    )
    event_type = f"{schema.get('namespace', '')}.{schema.get('name', '')}".lstrip(".")
    tree: dict[str, Any] = {}
    for leaf in leaves:
        node = tree
        for step in leaf.path[:-1]:
            node = node.setdefault(step, {})
        node[leaf.path[-1]] = leaf
    return SealPlan(event_type, tuple(leaves), groups, tree)


def _walk_take(
    data: dict[str, Any],
    tree: dict[str, Any],
    prefix: str,
    taken: dict[frozenset[str], dict[str, Any]],
) -> None:
    for name, sub in tree.items():
        value = data.get(name)
        if value is None:
            continue
        if isinstance(sub, SealedLeaf):
            data[name] = sub.placeholder
            found = taken.get(sub.tags)
            if found is None:
                found = taken[sub.tags] = {}
            found[prefix + name] = value
        elif "[]" in sub:
            if isinstance(value, (list, tuple)):
                for index, item in enumerate(value):
                    if isinstance(item, dict):
                        _walk_take(item, sub["[]"], f"{prefix}{name}.{index}.", taken)
        elif isinstance(value, dict):
            _walk_take(value, sub, f"{prefix}{name}.", taken)


def _record(  # noqa: PLR0917 -- recursive helper, positional for brevity
    schema: dict[str, Any],
    namespace: str,
    inherited: frozenset[str],
    names: Names,
    path: Path,
    leaves: list[SealedLeaf],
) -> None:
    for field in schema.get("fields", []):
        tags = inherited | frozenset(field.get("sensitivity", ()))
        here = (*path, str(field["name"]))
        kind, kind_ns, optional = _unwrap(field["type"], namespace, names)
        if isinstance(kind, dict) and kind.get("type") in ("record", "error"):
            _record(kind, kind_ns, tags, names, here, leaves)
            continue
        if isinstance(kind, dict) and kind.get("type") == "array":
            items, items_ns, _ = _unwrap(kind["items"], kind_ns, names)
            if isinstance(items, dict) and items.get("type") in ("record", "error"):
                _record(items, items_ns, tags, names, (*here, "[]"), leaves)
                continue
        inside = _tags_inside(kind, kind_ns, names, ())
        if tags or inside:
            placeholder = None if optional else _zero(kind)
            leaves.append(SealedLeaf(here, tags | inside, placeholder))


def _unwrap(schema: Any, namespace: str, names: Names) -> tuple[Any, str, bool]:
    """Resolve a type; ``["null", X]`` becomes ``(X, ns, True)``."""
    optional = False
    if isinstance(schema, list):
        branches = [b for b in schema if b != "null"]
        optional = len(branches) < len(schema)
        if len(branches) == 1:
            schema = branches[0]
    resolved, ns = names.resolve(schema, namespace)
    return resolved, ns, optional


def _tags_inside(
    schema: Any, namespace: str, names: Names, stack: tuple[str, ...]
) -> frozenset[str]:
    """Every tag on any field below ``schema`` (arrays, maps and unions included)."""
    found: frozenset[str] = frozenset()
    if isinstance(schema, list):
        for branch in schema:
            found |= _tags_inside(branch, namespace, names, stack)
        return found
    schema, namespace = names.resolve(schema, namespace)
    if not isinstance(schema, dict):
        return found
    kind = schema.get("type")
    if kind == "array":
        return _tags_inside(schema["items"], namespace, names, stack)
    if kind == "map":
        return _tags_inside(schema["values"], namespace, names, stack)
    if kind in ("record", "error"):
        name = f"{namespace}.{schema['name']}"
        if name in stack:
            return found
        for field in schema.get("fields", []):
            found |= frozenset(field.get("sensitivity", ()))
            found |= _tags_inside(field["type"], namespace, names, (*stack, name))
    return found


def _zero(schema: Any) -> Any:  # noqa: PLR0911 -- one return per Avro type
    kind = schema.get("type") if isinstance(schema, dict) else schema
    if kind == "string":
        return ""
    if kind in ("int", "long"):
        return 0
    if kind in ("float", "double"):
        return 0.0
    if kind == "boolean":
        return False
    if kind == "bytes":
        return b""
    if kind == "array":
        return []
    if kind == "map":
        return {}
    if kind == "enum":
        return schema["symbols"][0]
    if kind == "fixed":
        return bytes(schema["size"])
    if isinstance(kind, (dict, list)):  # {"type": {"type": "int", ...}} style
        return _zero(kind)
    raise ValueError(f"no placeholder for Avro type {kind!r}")


def put(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Put an opened value back at its dotted path (raises KeyError if the path is absent)."""
    node: Any = data
    steps = _steps(dotted)
    for step in steps[:-1]:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                raise KeyError(dotted)
            node = node[step]
        elif isinstance(node, dict) and isinstance(node.get(step), (dict, list)):
            node = node[step]
        else:
            raise KeyError(dotted)
    last = steps[-1]
    if not isinstance(node, dict) or last not in node:
        raise KeyError(dotted)
    node[last] = value


@lru_cache(maxsize=4096)
def _steps(dotted: str) -> tuple[str | int, ...]:
    """``victims.0.person.name`` -> ``("victims", 0, "person", "name")`` (paths repeat)."""
    return tuple(int(step) if step.isdigit() else step for step in dotted.split("."))
