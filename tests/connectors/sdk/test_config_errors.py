"""``exchange connect check`` names each broken field once, without follow-on errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.sdk.config import root_causes
from exchange.cli.main import main
from exchange.models.exceptions import FieldError

GATEWAY = """
kind = "http-gateway"
name = "gw"
agency = "transport"
callers = [{agency = "transport", token_sha256 = "not-a-digest"}]
max_body_bytes = 0
"""


def test_check_names_each_broken_field_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(GATEWAY)
    assert main(["connect", "check", str(config)]) == 2
    err = capsys.readouterr().err
    assert "2 error(s)" in err
    listed = [line.strip() for line in err.splitlines() if line.strip().startswith("- ")]
    assert [line.split(":")[0] for line in listed] == [
        "- callers.0.token_sha256", "- max_body_bytes"
    ]


def test_root_causes_keep_the_first_error_of_each_innermost_field() -> None:
    errors = [
        FieldError("a.0.b", "x", "m"),
        FieldError("a", "too_short", "follows from a.0.b"),
        FieldError("c", "first", "m"),
        FieldError("c", "second", "m"),
        FieldError("", "root", "m"),
    ]
    assert [(e.field, e.rule) for e in root_causes(errors)] == [
        ("a.0.b", "x"), ("c", "first"), ("", "root")
    ]
