"""Every generated document passes the AsyncAPI project's own parser (node, @asyncapi/parser with
@asyncapi/avro-schema-parser); a broken one does not."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from exchange.asyncapi import build_document
from exchange.asyncapi.exceptions import DocumentRejectedError
from exchange.asyncapi.parser import check_documents, parse_documents
from exchange.cli.main import main
from exchange.schemas.catalogue import Catalogue
from exchange.topology.loader import load_topology

pytestmark = pytest.mark.usefixtures("asyncapi_parser")


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_bus_and_every_agency_document_pass_the_parser(tmp_path: Path) -> None:
    topology, catalogue = load_topology(), Catalogue.load()
    files = [_write(tmp_path / "bus.json", build_document(topology, catalogue, "10.0.0.1:9093"))]
    for agency in topology.agencies:
        document = build_document(topology, catalogue, "10.0.0.1:9093", agency.id)
        files.append(_write(tmp_path / f"{agency.id}.json", document))
    reports = parse_documents(files)
    assert [r.file for r in reports] == [str(f) for f in files]
    assert {r.file: r.errors for r in reports if r.errors} == {}


def test_the_cli_writes_and_checks_an_agency_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "police.json"
    assert main(["asyncapi", "--agency", "police", "--out", str(out), "--check",
                 "--bootstrap", "127.0.0.1:19092"]) == 0
    assert "valid AsyncAPI 3.0.0" in capsys.readouterr().out
    assert json.loads(out.read_text("utf-8"))["info"]["title"].endswith("(西安市公安局)")


BREAKAGES = {
    "avro-type": "undefined type name",
    "example": "example does not match the Avro schema at rescueId",
    "channel-ref": "'#/channels/nowhere' does not exist",
    "binding": '"partitions" property type must be integer',
}


def _broken(document: dict[str, Any], breakage: str) -> dict[str, Any]:
    document = copy.deepcopy(document)
    rescue = document["components"]["messages"]["Rescue"]
    if breakage == "avro-type":
        rescue["payload"]["schema"]["fields"][0]["type"] = "strnig"
    elif breakage == "example":
        rescue["examples"][0]["payload"]["rescueId"] = 5
    elif breakage == "channel-ref":
        document["operations"]["health.receive.exchange.rescue"]["channel"]["$ref"] = (
            "#/channels/nowhere"
        )
    else:
        document["channels"]["exchange.rescue"]["bindings"]["kafka"]["partitions"] = "three"
    return document


def test_the_parser_rejects_broken_documents(tmp_path: Path) -> None:
    """One document per breakage (a small agency's, parsed in one node process)."""
    document = build_document(load_topology(), Catalogue.load(), "h:1", "health")
    files = [_write(tmp_path / f"{name}.json", _broken(document, name)) for name in BREAKAGES]
    reports = parse_documents(files)
    for name, report in zip(BREAKAGES, reports, strict=True):
        assert any(BREAKAGES[name] in error for error in report.errors), (name, report.errors)
    with pytest.raises(DocumentRejectedError, match="undefined type name"):
        check_documents(files[:1])
