"""Backward-transitive compatibility, enforced by check_catalogue and freeze."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from exchange.schemas import (
    Catalogue,
    SchemaIncompatibleError,
    check_catalogue,
    check_compatible,
    freeze,
)
from exchange.schemas.freeze import dump_schema

from .conftest import COLOUR, PING, write_schema


def _with_field(schema: dict[str, Any], field: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(schema)
    changed["fields"].append(field)
    return changed


OPTIONAL_NOTE = {"name": "note", "type": ["null", "string"], "default": None, "doc": "Added in v2."}
REQUIRED_NOTE = {"name": "note", "type": "string", "doc": "Required, no default."}


def test_check_compatible_reports_the_checker_findings() -> None:
    assert check_compatible(_with_field(PLAIN, OPTIONAL_NOTE), PLAIN) == []
    details = check_compatible(_with_field(PLAIN, REQUIRED_NOTE), PLAIN)
    assert details
    assert "reader_field_missing_default_value" in details[0]


PLAIN: dict[str, Any] = {
    "type": "record",
    "name": "R",
    "namespace": "x",
    "fields": [{"name": "a", "type": "int"}],
}


def test_freeze_is_idempotent(schema_dir: Path) -> None:
    assert len(freeze(schema_dir)) == 2
    assert freeze(schema_dir) == []
    report = check_catalogue(Catalogue.load(schema_dir))
    assert report.ok
    assert report.unpublished == []


def test_compatible_change_gets_a_new_version(schema_dir: Path) -> None:
    freeze(schema_dir)
    write_schema(schema_dir, _with_field(PING, OPTIONAL_NOTE))
    report = check_catalogue(Catalogue.load(schema_dir))
    assert report.ok
    assert report.unpublished == ["exchange.events.Ping"]
    written = freeze(schema_dir)
    assert [p.name for p in written] == ["v2.avsc"]
    catalogue = Catalogue.load(schema_dir)
    assert [v.version for v in catalogue.versions("Ping")] == [1, 2]
    assert check_catalogue(catalogue).unpublished == []


def test_docs_only_change_is_a_new_version_with_the_same_fingerprint(schema_dir: Path) -> None:
    freeze(schema_dir)
    changed = copy.deepcopy(PING)
    changed["fields"][0]["sensitivity"] = ["identity"]
    write_schema(schema_dir, changed)
    assert len(freeze(schema_dir)) == 1
    catalogue = Catalogue.load(schema_dir)
    v1, v2 = catalogue.versions("Ping")
    assert v1.fingerprint == v2.fingerprint
    assert catalogue.by_fingerprint(v1.fingerprint) is v2  # newest tags win


@pytest.mark.parametrize(
    ("name", "changed"),
    [
        ("new required field", _with_field(PING, REQUIRED_NOTE)),
        (
            "type change",
            {**PING, "fields": [{**PING["fields"][0], "type": "int"}, *PING["fields"][1:]]},
        ),
    ],
)
def test_incompatible_event_change_is_refused(
    schema_dir: Path, name: str, changed: dict[str, Any]
) -> None:
    freeze(schema_dir)
    write_schema(schema_dir, changed)
    report = check_catalogue(Catalogue.load(schema_dir))
    assert not report.ok, name
    with pytest.raises(SchemaIncompatibleError) as info:
        freeze(schema_dir)
    assert info.value.event_type == "exchange.events.Ping"
    assert info.value.reader_version == 2
    assert info.value.writer_version == 1
    assert info.value.details
    assert not (schema_dir / "published" / "exchange.events.Ping" / "v2.avsc").exists()


def test_removed_enum_symbol_is_refused(schema_dir: Path) -> None:
    freeze(schema_dir)
    write_schema(schema_dir, {**COLOUR, "symbols": ["RED", "GREEN"]})
    with pytest.raises(SchemaIncompatibleError) as info:
        freeze(schema_dir)
    assert "missing_enum_symbols" in " ".join(info.value.details)
    assert "BLUE" in str(info.value)


def test_added_enum_symbol_is_backward_compatible(schema_dir: Path) -> None:
    freeze(schema_dir)
    write_schema(schema_dir, {**COLOUR, "symbols": ["RED", "GREEN", "BLUE", "BLACK"]})
    assert [p.name for p in freeze(schema_dir)] == ["v2.avsc"]


def test_check_catalogue_is_transitive(schema_dir: Path) -> None:
    """A hand-made v3 that reads v2 but not v1 is caught."""
    freeze(schema_dir)
    folder = schema_dir / "published" / "exchange.events.Ping"
    v1 = json.loads((folder / "v1.avsc").read_text(encoding="utf-8"))
    v2 = _with_field(v1, {"name": "note", "type": "string", "default": "", "doc": "v2"})
    v3 = copy.deepcopy(v2)
    v3["fields"][-1] = {"name": "note", "type": "string", "doc": "v3 drops the default"}
    (folder / "v2.avsc").write_text(dump_schema(v2), encoding="utf-8")
    (folder / "v3.avsc").write_text(dump_schema(v3), encoding="utf-8")
    report = check_catalogue(Catalogue.load(schema_dir))
    assert not report.ok
    assert any("v3 cannot read exchange.events.Ping v1" in p for p in report.problems)
    assert not any("cannot read exchange.events.Ping v2" in p for p in report.problems)
