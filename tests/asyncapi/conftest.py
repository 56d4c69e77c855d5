"""The AsyncAPI parser's npm packages: installed by .ci/run; installed here if missing (npm ci
from the pinned lock file), and a clear failure when node or npm is not there."""

from __future__ import annotations

import pytest

from exchange.asyncapi.parser import install_parser, parser_installed


@pytest.fixture(scope="session")
def asyncapi_parser() -> None:
    if not parser_installed():
        install_parser()  # raises ParserUnavailableError naming what is missing
