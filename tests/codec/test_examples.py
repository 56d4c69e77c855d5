"""Every example event of ``exchange.models`` survives the wire, against the project's schemas."""

from __future__ import annotations

import shutil
from io import BytesIO

import pytest
from fastavro import schemaless_reader

from exchange.codec import EventCodec
from exchange.examples import EXAMPLES, example
from exchange.models.registry import spec_for
from exchange.schemas import Catalogue, default_schema_dir, freeze

SOURCE = "/agencies/xian-psb/case-system"


@pytest.fixture(scope="module")
def project_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    """The project's current sources, frozen in a copy (independent of the published files)."""
    root = tmp_path_factory.mktemp("project") / "avro"
    root.mkdir()
    for path in default_schema_dir().glob("*.avsc"):
        shutil.copy(path, root / path.name)
    freeze(root)
    return Catalogue.load(root)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_round_trip(project_catalogue: Catalogue, name: str) -> None:
    codec = EventCodec(project_catalogue)
    event = example(name)
    spec = spec_for(name)
    encoded = codec.encode(event, source=SOURCE)
    assert encoded.key == spec.key(event).encode()
    assert dict(encoded.headers)["ce_type"] == spec.fullname.encode()
    decoded = codec.decode(encoded.value, encoded.headers)
    assert decoded.event == event
    assert type(decoded.event) is spec.model
    writer = project_catalogue.latest(spec.fullname)
    assert writer.schema == project_catalogue.current(spec.fullname)
    record = schemaless_reader(BytesIO(encoded.value[10:]), writer.schema, None)
    assert isinstance(record, dict)


def test_published_catalogue_round_trip() -> None:
    """The published files in the repository (what ships) encode and decode every example."""
    catalogue = Catalogue.load()
    missing = [name for name in EXAMPLES if not catalogue.versions(spec_for(name).fullname)]
    if missing:
        pytest.fail(f"events without a published version: {missing}; run `exchange schemas freeze`")
    codec = EventCodec(catalogue)
    for name in EXAMPLES:
        encoded = codec.encode(example(name), source=SOURCE)
        assert codec.decode(encoded.value, encoded.headers).event == example(name)
