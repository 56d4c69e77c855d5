"""Catalogue loading, expansion and fingerprints."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import avro.schema
import pytest
from fastavro.schema import to_parsing_canonical_form

from exchange.schemas import (
    Catalogue,
    SchemaParseError,
    SchemaVersion,
    UnknownSchemaError,
    crc64_avro,
    default_schema_dir,
    expand,
    freeze,
)
from exchange.schemas.catalogue import load_sources

# From the Avro project's share/test/data/schema-tests.txt: Java's parsingFingerprint64 as a
# signed long; BinaryMessageEncoder writes it little-endian after C3 01.
SPEC_VECTORS = [
    ('"null"', 7195948357588979594),
    ('"int"', 8247732601305521295),
    ('"string"', -8142146995180207161),
    ('{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}', 5916914534497305771),
    (
        '{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", '
        '"symbols":["A1", "A2"]}',
        -4448647247586288245,
    ),
]


@pytest.mark.parametrize(("schema", "java_long"), SPEC_VECTORS)
def test_fingerprint_is_little_endian_crc64_avro(schema: str, java_long: int) -> None:
    canonical = to_parsing_canonical_form(json.loads(schema))
    fingerprint = crc64_avro(canonical)
    assert fingerprint == struct.pack("<q", java_long)
    assert fingerprint == avro.schema.parse(schema).fingerprint("CRC-64-AVRO")


def test_int_fingerprint_bytes() -> None:
    assert crc64_avro('"int"').hex() == "8f5c393f1ad57572"


def test_expand_inlines_once_then_refers_by_full_name(schema_dir: Path) -> None:
    ping = expand("exchange.events.Ping", load_sources(schema_dir))
    fields = {f["name"]: f for f in ping["fields"]}
    assert fields["colour"]["type"]["type"] == "enum"
    assert fields["colour"]["type"]["namespace"] == "exchange.events"
    assert fields["here"]["type"]["name"] == "Place"
    assert fields["here"]["type"]["namespace"] == "exchange.common"
    assert fields["here"]["sensitivity"] == ["location"]  # custom attributes survive
    assert fields["there"]["type"] == ["null", "exchange.common.Place"]
    assert ping["doc"] == "A test event."
    version = SchemaVersion.build("exchange.events.Ping", 1, ping)
    assert version.canonical.startswith('{"name":"exchange.events.Ping","type":"record"')


def test_event_types_are_unreferenced_records_of_the_events_namespace(schema_dir: Path) -> None:
    catalogue = Catalogue.load(schema_dir)
    assert catalogue.event_types == ("exchange.events.Ping", "exchange.events.Pong")
    assert catalogue.check_sources() == []


def test_unresolved_reference(schema_dir: Path) -> None:
    (schema_dir / "exchange.common.Place.avsc").unlink()
    catalogue = Catalogue.load(schema_dir)
    with pytest.raises(SchemaParseError, match=r"exchange\.common\.Place"):
        catalogue.current("Ping")
    assert catalogue.check_sources()


def test_file_must_be_named_by_full_name(schema_dir: Path) -> None:
    (schema_dir / "exchange.common.Place.avsc").rename(schema_dir / "Place.avsc")
    with pytest.raises(SchemaParseError, match=r"name the file exchange\.common\.Place\.avsc"):
        Catalogue.load(schema_dir)


def test_bad_json(schema_dir: Path) -> None:
    (schema_dir / "exchange.events.Bad.avsc").write_text("{", encoding="utf-8")
    with pytest.raises(SchemaParseError, match="JSON"):
        Catalogue.load(schema_dir)


def test_published_versions_and_lookups(schema_dir: Path) -> None:
    catalogue = Catalogue.load(schema_dir)
    with pytest.raises(UnknownSchemaError):
        catalogue.latest("Ping")
    assert catalogue.versions("Ping") == ()
    written = freeze(schema_dir)
    assert sorted(p.relative_to(schema_dir).as_posix() for p in written) == [
        "published/exchange.events.Ping/v1.avsc",
        "published/exchange.events.Pong/v1.avsc",
    ]
    catalogue = Catalogue.load(schema_dir)
    latest = catalogue.latest("exchange.events.Ping")
    assert latest.version == 1
    assert catalogue.latest("Ping") is latest
    assert latest.schema == catalogue.current("Ping")
    assert catalogue.by_fingerprint(latest.fingerprint) is latest
    assert len(latest.fingerprint) == 8
    with pytest.raises(UnknownSchemaError) as info:
        catalogue.by_fingerprint(b"\x00" * 8)
    assert info.value.fingerprint == b"\x00" * 8


def test_published_versions_must_be_contiguous(schema_dir: Path) -> None:
    freeze(schema_dir)
    folder = schema_dir / "published" / "exchange.events.Ping"
    (folder / "v1.avsc").rename(folder / "v2.avsc")
    with pytest.raises(SchemaParseError, match="not v1"):
        Catalogue.load(schema_dir)


def test_default_schema_dir_is_the_repository_folder() -> None:
    folder = default_schema_dir()
    assert folder.parts[-2:] == ("schemas", "avro")
    assert folder.is_dir()


def test_project_sources_parse() -> None:
    catalogue = Catalogue.load()
    assert catalogue.check_sources() == []
    for event_type in catalogue.event_types:
        assert event_type.startswith("exchange.events.")
        SchemaVersion.build(event_type, 1, catalogue.current(event_type))
