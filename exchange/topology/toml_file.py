"""Reading the project's TOML data files, every problem as a :class:`TopologyFileError`.

One helper for the topology (``agencies.toml``, ``topics.toml``) and the rules' reference data
(``jurisdiction.toml``, ``referral_rules.toml``). Each caller passes its own subclass of
:class:`TopologyFileError` as ``error``, so the exception names the file it is about, and the
message names the file, where in it (``rule[legal-aid].when.needs``) and the problem.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from exchange.topology.exceptions import TopologyFileError

_M = TypeVar("_M", bound=BaseModel)


def read_toml(file: Path, error: type[TopologyFileError] = TopologyFileError) -> dict[str, Any]:
    """The parsed ``file``; raises ``error`` if it is missing or not valid TOML."""
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise error(file, "", "file not found") from None
    except tomllib.TOMLDecodeError as problem:
        raise error(file, "", f"not valid TOML: {problem}") from problem


def only_tables(
    file: Path,
    data: Mapping[str, Any],
    allowed: Collection[str],
    error: type[TopologyFileError] = TopologyFileError,
) -> None:
    """Raise ``error`` naming the first top-level key of ``data`` that is not ``allowed``."""
    for key in data:
        if key not in allowed:
            expected = ", ".join(allowed)
            raise error(file, key, f"unknown table; expected {expected}")


def validation_error(
    file: Path,
    where: str,
    problem: ValidationError,
    error: type[TopologyFileError] = TopologyFileError,
) -> TopologyFileError:
    """``error`` for the first problem pydantic found in the table at ``where``."""
    first = problem.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    path = f"{where}.{field}" if field else where
    return error(file, path, first["msg"])


def validate_table(
    file: Path,
    where: str,
    model: type[_M],
    raw: object,
    error: type[TopologyFileError] = TopologyFileError,
) -> _M:
    """The table ``raw`` (found at ``where`` in ``file``) as ``model``; ``error`` if it is not."""
    if raw is None:
        raise error(file, where, f"missing [{where}] table")
    if not isinstance(raw, Mapping):
        raise error(file, where, f"expected a [{where}] table")
    try:
        return model.model_validate(raw)
    except ValidationError as problem:
        raise validation_error(file, where, problem, error) from None
