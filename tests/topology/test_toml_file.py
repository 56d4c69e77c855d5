"""The shared TOML reader: every problem as the caller's TopologyFileError, naming where."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from exchange.topology.exceptions import TopologyFileError
from exchange.topology.toml_file import only_tables, read_toml, validate_table


class RulesFileError(TopologyFileError):
    """A caller's own subclass."""


class Limits(BaseModel):
    days: int = Field(ge=1)


def test_read_toml_raises_the_callers_error(tmp_path: Path) -> None:
    file = tmp_path / "rules.toml"
    with pytest.raises(RulesFileError, match="file not found"):
        read_toml(file, RulesFileError)
    file.write_text("[limits\n")
    with pytest.raises(RulesFileError, match="not valid TOML"):
        read_toml(file, RulesFileError)
    file.write_text("[limits]\ndays = 3\n")
    assert read_toml(file, RulesFileError) == {"limits": {"days": 3}}


def test_validate_table_names_the_field(tmp_path: Path) -> None:
    file = tmp_path / "rules.toml"
    assert validate_table(file, "limits", Limits, {"days": 2}).days == 2
    with pytest.raises(RulesFileError, match=r"limits\.days") as caught:
        validate_table(file, "limits", Limits, {"days": 0}, RulesFileError)
    assert caught.value.path == "limits.days"
    with pytest.raises(TopologyFileError, match=r"missing \[limits\] table"):
        validate_table(file, "limits", Limits, None)
    with pytest.raises(TopologyFileError, match=r"expected a \[limits\] table"):
        validate_table(file, "limits", Limits, 3)


def test_only_tables_names_the_stranger(tmp_path: Path) -> None:
    file = tmp_path / "rules.toml"
    only_tables(file, {"limits": {}}, ("limits", "rule"))
    with pytest.raises(RulesFileError, match="unknown table; expected limits, rule") as caught:
        only_tables(file, {"limits": {}, "limit": {}}, ("limits", "rule"), RulesFileError)
    assert caught.value.path == "limit"
