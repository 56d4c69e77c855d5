"""The catalogue of Avro schemas: current sources and every published version.

Layout of a schema folder (``schemas/avro/`` in the repository, shipped in the wheel as
``exchange/_data/schemas/avro``)::

    exchange.common.Location.avsc            source: one named type per file, named by full name
    exchange.events.TransportSighting.avsc   an event: a record in namespace ``exchange.events``
    published/exchange.events.TransportSighting/v1.avsc
                                             a frozen version: self-contained, machine-written

Sources refer to other named types by name. :func:`expand` turns an event into one
self-contained schema: each named type is inlined where it is first used and referred to by its
full name afterwards (Avro forbids a second definition). Docs and custom attributes such as
``"sensitivity"`` are kept, so a published version documents itself and drives redaction.

A :class:`SchemaVersion` carries the Avro Parsing Canonical Form and its CRC-64-AVRO fingerprint
as the 8 bytes that follow ``C3 01`` in the single-object encoding (little-endian, the byte order
of Java's ``SchemaNormalization.parsingFingerprint64`` written by ``BinaryMessageEncoder``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint as _fastavro_fingerprint
from fastavro.schema import to_parsing_canonical_form

from exchange.schemas.exceptions import SchemaParseError, UnknownSchemaError

__all__ = [
    "EVENT_NAMESPACE",
    "PUBLISHED_DIR",
    "Catalogue",
    "SchemaVersion",
    "crc64_avro",
    "default_schema_dir",
    "event_names",
    "expand",
    "load_sources",
]

#: Events are the records of this namespace; other named types are shared building blocks.
EVENT_NAMESPACE = "exchange.events"
#: Sub-folder of a schema folder holding the published versions.
PUBLISHED_DIR = "published"

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED_KINDS = frozenset({"record", "error", "enum", "fixed"})
_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.avsc$")

Schema = dict[str, Any]


def default_schema_dir() -> Path:
    """The packaged schema folder if installed from a wheel, else the repo's ``schemas/avro``."""
    package_dir = Path(__file__).resolve().parent.parent
    packaged = package_dir / "_data" / "schemas" / "avro"
    if packaged.is_dir():
        return packaged
    return package_dir.parent / "schemas" / "avro"


def crc64_avro(canonical: str) -> bytes:
    """CRC-64-AVRO of a canonical form, as the 8 little-endian bytes of the single-object header."""
    # fastavro renders the 64-bit value byte by byte, least significant first: the same order
    # as the Avro spec's single-object encoding (checked against the spec's test vectors).
    return bytes.fromhex(_fastavro_fingerprint(canonical, "CRC-64-AVRO"))


def _split_name(name: str, namespace: str) -> tuple[str, str]:
    """(short name, namespace) of a name written in a schema whose enclosing namespace is given."""
    if "." in name:
        ns, _, short = name.rpartition(".")
        return short, ns
    return name, namespace


def _fullname(short: str, namespace: str) -> str:
    return f"{namespace}.{short}" if namespace else short


def load_sources(root: Path) -> dict[str, Schema]:
    """Read every ``<fullname>.avsc`` of ``root`` (not its sub-folders): full name -> schema."""
    sources: dict[str, Schema] = {}
    for path in sorted(root.glob("*.avsc")):
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SchemaParseError(path, f"not a readable JSON file ({exc})") from exc
        if not isinstance(schema, dict) or schema.get("type") not in NAMED_KINDS:
            raise SchemaParseError(path, "a source file holds one named type (record/enum/fixed)")
        name = schema.get("name")
        if not isinstance(name, str):
            raise SchemaParseError(path, "the named type has no 'name'")
        namespace = schema.get("namespace", "")
        fullname = _fullname(*_split_name(name, namespace if isinstance(namespace, str) else ""))
        if path.name != f"{fullname}.avsc":
            raise SchemaParseError(path, f"defines {fullname!r}; name the file {fullname}.avsc")
        sources[fullname] = schema
    return sources


class _Expander:
    """Inline named types at first use (depth first, in field order), refer by name after."""

    def __init__(self, sources: Mapping[str, Schema], origin: Path) -> None:
        self._sources = sources
        self._origin = origin
        self._defined: set[str] = set()

    def _fail(self, problem: str) -> SchemaParseError:
        return SchemaParseError(self._origin, problem)

    def node(self, node: Any, namespace: str) -> Any:
        if isinstance(node, str):
            if node in PRIMITIVES:
                return node
            fullname = _fullname(*_split_name(node, namespace))
            if fullname in self._defined:
                return fullname
            source = self._sources.get(fullname)
            if source is None:
                raise self._fail(f"unresolved reference to {fullname!r}: no {fullname}.avsc")
            return self.named(source, "")
        if isinstance(node, list):
            return [self.node(branch, namespace) for branch in node]
        if isinstance(node, dict):
            kind = node.get("type")
            if kind in NAMED_KINDS:
                return self.named(node, namespace)
            out = dict(node)
            if kind == "array":
                out["items"] = self.node(node.get("items"), namespace)
            elif kind == "map":
                out["values"] = self.node(node.get("values"), namespace)
            else:
                out["type"] = self.node(kind, namespace)
            return out
        raise self._fail(f"not a schema: {node!r}")

    def named(self, node: Schema, namespace: str) -> Schema:
        name = node.get("name")
        if not isinstance(name, str):
            raise self._fail(f"named type without a name: {node!r}")
        own_ns = node.get("namespace", namespace)
        short, ns = _split_name(name, own_ns if isinstance(own_ns, str) else namespace)
        fullname = _fullname(short, ns)
        if fullname in self._defined:
            raise self._fail(f"{fullname!r} is defined twice")
        self._defined.add(fullname)
        out: Schema = {"type": node["type"], "name": short, "namespace": ns}
        for key, value in node.items():
            if key in out:
                continue
            if key == "fields":
                out["fields"] = [
                    {**field, "type": self.node(field.get("type"), ns)} for field in value
                ]
            else:
                out[key] = value
        return out


def _references(node: Any, namespace: str, found: set[str]) -> None:
    """Add to ``found`` the full names that ``node`` refers to (not those it defines)."""
    if isinstance(node, str):
        if node not in PRIMITIVES:
            found.add(_fullname(*_split_name(node, namespace)))
    elif isinstance(node, list):
        for branch in node:
            _references(branch, namespace, found)
    elif isinstance(node, dict):
        kind = node.get("type")
        if kind in NAMED_KINDS:
            own_ns = node.get("namespace", namespace)
            own_ns = own_ns if isinstance(own_ns, str) else ""
            _, ns = _split_name(str(node.get("name", "")), own_ns)
            for field in node.get("fields", ()):
                if isinstance(field, dict):
                    _references(field.get("type"), ns, found)
        elif kind == "array":
            _references(node.get("items"), namespace, found)
        elif kind == "map":
            _references(node.get("values"), namespace, found)
        else:
            _references(kind, namespace, found)


def event_names(sources: Mapping[str, Schema]) -> list[str]:
    """The events among the sources: records of :data:`EVENT_NAMESPACE` that no type refers to.

    Enums and records of that namespace which other types use (e.g. a victim record inside a
    rescue) are parts of events, not events.
    """
    referenced: set[str] = set()
    for name, schema in sources.items():
        found: set[str] = set()
        _references(schema, "", found)
        referenced |= found - {name}
    return sorted(
        name
        for name, schema in sources.items()
        if name.startswith(f"{EVENT_NAMESPACE}.")
        and schema.get("type") == "record"
        and name not in referenced
    )


def expand(fullname: str, sources: Mapping[str, Schema], origin: Path | None = None) -> Schema:
    """The self-contained schema of ``fullname``, with every referenced named type inlined once."""
    where = origin if origin is not None else Path(f"{fullname}.avsc")
    if fullname not in sources:
        raise SchemaParseError(where, f"no source for {fullname!r}")
    return _Expander(sources, where).named(sources[fullname], "")


def _parse(schema: Schema, origin: Path) -> Any:
    try:
        return fastavro.parse_schema(schema)
    except Exception as exc:
        raise SchemaParseError(origin, f"not a valid Avro schema ({exc})") from exc


@dataclass(frozen=True, eq=False)
class SchemaVersion:
    """One published version of an event's schema."""

    event_type: str
    version: int
    schema: Schema
    parsed: Any
    canonical: str
    fingerprint: bytes
    path: Path | None = None

    @classmethod
    def build(
        cls, event_type: str, version: int, schema: Schema, path: Path | None = None
    ) -> SchemaVersion:
        """Parse ``schema`` and compute its canonical form and fingerprint."""
        origin = path if path is not None else Path(f"{event_type}/v{version}.avsc")
        parsed = _parse(schema, origin)
        try:
            canonical = to_parsing_canonical_form(schema)
        except Exception as exc:
            raise SchemaParseError(origin, f"no canonical form ({exc})") from exc
        return cls(event_type, version, schema, parsed, canonical, crc64_avro(canonical), path)

    @property
    def label(self) -> str:
        """``exchange.events.TransportSighting v1``."""
        return f"{self.event_type} v{self.version}"


def _load_published(root: Path) -> dict[str, tuple[SchemaVersion, ...]]:
    published: dict[str, tuple[SchemaVersion, ...]] = {}
    folder = root / PUBLISHED_DIR
    if not folder.is_dir():
        return published
    for event_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        event_type = event_dir.name
        found: list[SchemaVersion] = []
        for path in event_dir.iterdir():
            match = _VERSION_FILE.match(path.name)
            if match is None:
                raise SchemaParseError(path, "published files are named v<N>.avsc")
            try:
                schema = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise SchemaParseError(path, f"not a readable JSON file ({exc})") from exc
            if not isinstance(schema, dict):
                raise SchemaParseError(path, "a published schema is a record")
            name = _fullname(*_split_name(schema.get("name", ""), schema.get("namespace", "")))
            if name != event_type:
                raise SchemaParseError(path, f"defines {name!r}, not {event_type!r}")
            found.append(SchemaVersion.build(event_type, int(match.group(1)), schema, path))
        found.sort(key=lambda v: v.version)
        numbers = [v.version for v in found]
        if numbers != list(range(1, len(found) + 1)):
            raise SchemaParseError(event_dir, f"versions {numbers} are not v1..v{len(found)}")
        if found:
            published[event_type] = tuple(found)
    return published


class Catalogue:
    """Every published version of every event, plus the current source schemas.

    Event types are Avro full names (``exchange.events.TransportSighting``); the lookups also
    accept the short name of an event (``TransportSighting``).
    """

    def __init__(
        self,
        root: Path,
        sources: Mapping[str, Schema],
        published: Mapping[str, tuple[SchemaVersion, ...]],
    ) -> None:
        self.root = root
        self.sources: Mapping[str, Schema] = dict(sources)
        self._published = dict(published)
        self._by_fingerprint: dict[bytes, SchemaVersion] = {}
        for versions in self._published.values():
            for version in versions:  # a docs-only change keeps the fingerprint: latest wins
                self._by_fingerprint[version.fingerprint] = version
        self._current: dict[str, Schema] = {}
        source_events = set(event_names(self.sources))
        #: Events with a source or a published version, sorted.
        self.event_types: tuple[str, ...] = tuple(sorted(source_events | set(self._published)))

    @classmethod
    def load(cls, root: Path | None = None) -> Catalogue:
        """Load a schema folder (default: :func:`default_schema_dir`)."""
        folder = root if root is not None else default_schema_dir()
        if not folder.is_dir():
            raise SchemaParseError(folder, "schema folder does not exist")
        return cls(folder, load_sources(folder), _load_published(folder))

    def resolve(self, event_type: str) -> str:
        """The full name of an event given its full or short name."""
        if "." in event_type:
            return event_type
        return f"{EVENT_NAMESPACE}.{event_type}"

    @property
    def published_event_types(self) -> tuple[str, ...]:
        """Event types with at least one published version."""
        return tuple(sorted(self._published))

    def versions(self, event_type: str) -> tuple[SchemaVersion, ...]:
        """Published versions, oldest first; empty if none."""
        return self._published.get(self.resolve(event_type), ())

    def latest(self, event_type: str) -> SchemaVersion:
        """The newest published version; :class:`UnknownSchemaError` if none is published."""
        versions = self.versions(event_type)
        if not versions:
            raise UnknownSchemaError(event_type=self.resolve(event_type))
        return versions[-1]

    def by_fingerprint(self, fingerprint: bytes) -> SchemaVersion:
        """The published version whose canonical form has this fingerprint."""
        try:
            return self._by_fingerprint[fingerprint]
        except KeyError:
            raise UnknownSchemaError(fingerprint=fingerprint) from None

    def current(self, event_type: str) -> Schema:
        """The event's schema expanded from the ``.avsc`` sources (may be unpublished)."""
        fullname = self.resolve(event_type)
        cached = self._current.get(fullname)
        if cached is None:
            if fullname not in self.sources:
                raise UnknownSchemaError(event_type=fullname)
            cached = expand(fullname, self.sources, self.root / f"{fullname}.avsc")
            self._current[fullname] = cached
        return cached

    def check_sources(self) -> list[str]:
        """Problems with the sources: each named type must expand and parse on its own."""
        problems: list[str] = []
        for fullname in self.sources:
            try:
                schema = expand(fullname, self.sources, self.root / f"{fullname}.avsc")
                _parse(schema, self.root / f"{fullname}.avsc")
            except SchemaParseError as exc:
                problems.append(str(exc))
        return problems
