"""Schema evolution on the wire: a newer reader decodes records of every earlier version."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange.codec import EventCodec, UnknownFingerprintError
from exchange.schemas import Catalogue, freeze

from .conftest import PING, Colour, Ping, Place, Registry, Spec, write_schema

SOURCE = "/agencies/test/app"


class PingV2(Ping):
    note: str | None = None


def test_v2_reader_decodes_v1_and_v2_records(schema_dir: Path) -> None:
    v1_codec = EventCodec(
        Catalogue.load(schema_dir), registry=Registry(Spec("Ping", "exchange.events.Ping", Ping))
    )
    old = Ping(
        caseId="C-9",
        colour=Colour.BLUE,
        count=3,
        here=Place(lat=1, lon=2),
        tags=["x"],
        at=datetime(2024, 2, 2, tzinfo=UTC),
    )
    v1_record = v1_codec.encode(old, source=SOURCE)

    v2 = copy.deepcopy(PING)
    v2["fields"].append(
        {"name": "note", "type": ["null", "string"], "default": None, "doc": "Added in v2."}
    )
    write_schema(schema_dir, v2)
    written = {p.relative_to(schema_dir).as_posix() for p in freeze(schema_dir)}
    assert "published/exchange.events.Ping/v2.avsc" in written
    catalogue = Catalogue.load(schema_dir)
    v2_codec = EventCodec(
        catalogue, registry=Registry(Spec("Ping", "exchange.events.Ping", PingV2))
    )

    decoded = v2_codec.decode(v1_record.value, v1_record.headers)
    assert (decoded.writer.version, decoded.reader.version) == (1, 2)
    assert isinstance(decoded.event, PingV2)
    assert decoded.event.note is None
    assert decoded.event.caseId == "C-9"

    new = PingV2(**{**dict(old), "note": "转交铁路公安"})
    v2_record = v2_codec.encode(new, source=SOURCE)
    assert v2_record.value[2:10] == catalogue.latest("Ping").fingerprint
    assert b":v2:" in dict(v2_record.headers)["ce_dataschema"]
    decoded = v2_codec.decode(v2_record.value, v2_record.headers)
    assert decoded.event == new
    assert (decoded.writer.version, decoded.reader.version) == (2, 2)

    # Forward reading is not promised: an old catalogue does not know v2 and says so.
    with pytest.raises(UnknownFingerprintError):
        v1_codec.decode(v2_record.value, v2_record.headers)
