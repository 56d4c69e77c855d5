"""``exchange schemas check`` passes on the repository and fails on an incompatible change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from exchange.cli.main import main
from exchange.schemas.catalogue import default_schema_dir


def test_check_passes_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schemas", "check"]) == 0
    assert "schemas: OK" in capsys.readouterr().out


def _add_required_field(root: Path) -> None:
    source = root / "exchange.events.Referral.avsc"
    schema = json.loads(source.read_text())
    schema["fields"].append(
        {"name": "priority", "type": "string", "doc": "A new field without a default."}
    )
    source.write_text(json.dumps(schema, indent=2))


def test_incompatible_change_fails_check_and_is_refused_by_freeze(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "avro"
    shutil.copytree(default_schema_dir(), root)
    versions = root / "published" / "exchange.events.Referral"
    before = sorted(p.name for p in versions.iterdir())
    _add_required_field(root)

    assert main(["schemas", "check", "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "schemas: FAILED" in out
    assert "Referral" in out

    assert main(["schemas", "freeze", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "exchange.events.Referral" in err
    assert "priority" in err
    assert sorted(p.name for p in versions.iterdir()) == before  # no new version written
    assert len(before) >= 1
