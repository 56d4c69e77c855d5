"""The guide's complete example works as written: its adapter, config and test are taken from
connectors/GUIDE.md (the fenced blocks starting ``# file: PATH``) and run against the broker."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from connectors.registry import load_config
from connectors.sdk.testing import ConnectorHarness

GUIDE = Path(__file__).resolve().parents[2] / "connectors" / "GUIDE.md"


def guide_files() -> dict[str, str]:
    files = {}
    for block in re.findall(r"```(?:python|toml)\n(.*?)```", GUIDE.read_text(), re.S):
        first, _, _ = block.partition("\n")
        if first.startswith("# file: "):
            files[first.removeprefix("# file: ").strip()] = block
    return files


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def guide(tmp_path: Path) -> Iterator[tuple[dict[str, str], ModuleType, ModuleType]]:
    files = guide_files()
    assert set(files) == {
        "connectors/adapters/relief_register.py",
        "relief-register.toml",
        "tests/connectors/adapters/test_relief_register.py",
    }
    for relative, text in files.items():
        target = tmp_path / "guide" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    adapter = load_module(
        "connectors.adapters.relief_register",
        tmp_path / "guide/connectors/adapters/relief_register.py",
    )
    test = load_module(
        "guide_test", tmp_path / "guide/tests/connectors/adapters/test_relief_register.py"
    )
    try:
        yield files, adapter, test
    finally:
        sys.modules.pop("connectors.adapters.relief_register", None)
        sys.modules.pop("guide_test", None)


def test_the_guides_config_loads_into_the_guides_adapter(guide, tmp_path: Path) -> None:
    _, adapter, _ = guide
    cls, config = load_config(tmp_path / "guide" / "relief-register.toml")
    assert cls is adapter.ReliefRegisterSink
    assert config.topics == ("exchange.referral.to.civil-affairs",)
    assert config.retry.max_attempts == 8


@pytest.mark.broker
async def test_the_guides_test_passes(guide, harness: ConnectorHarness, tmp_path: Path) -> None:
    _, _, test = guide
    await test.test_a_referral_lands_in_the_register_once(harness, tmp_path)
