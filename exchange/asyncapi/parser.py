"""Run the AsyncAPI project's own parser (``validator/validate.mjs`` on node) over documents.

The npm packages are pinned in ``validator/package-lock.json``; :func:`install_parser` runs
``npm ci`` (install scripts off) into ``validator/node_modules``, which ``.ci/run`` does on a
fresh machine. Nothing here downloads anything unless asked to.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from exchange.asyncapi.exceptions import DocumentRejectedError, ParserUnavailableError

VALIDATOR_DIR = Path(__file__).resolve().parent / "validator"
SCRIPT = VALIDATOR_DIR / "validate.mjs"
INSTALLED_STAMP = "node_modules/.installed-lock.json"
_PACKAGES = ("@asyncapi/parser", "@asyncapi/avro-schema-parser", "avsc")


@dataclass(frozen=True)
class ParserReport:
    """What the parser said about one file: ``errors`` and ``warnings`` as ``path: msg [code]``."""

    file: str
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise ParserUnavailableError("`node` is not on PATH; install Node.js (>= 18)")
    return node


def parser_installed() -> bool:
    return all((VALIDATOR_DIR / "node_modules" / name / "package.json").is_file()
               for name in _PACKAGES)


def install_parser(timeout_s: float = 600.0) -> None:
    """``npm ci`` the pinned parser packages (no install scripts, no audit)."""
    npm = shutil.which("npm")
    if npm is None:
        raise ParserUnavailableError("`npm` is not on PATH; install Node.js with npm")
    done = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=VALIDATOR_DIR, capture_output=True, text=True, timeout=timeout_s, check=False,
    )
    if done.returncode != 0 or not parser_installed():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ParserUnavailableError(f"`npm ci` in {VALIDATOR_DIR} failed: {' | '.join(tail)}")
    # The stamp .ci/run compares with the lock file to skip a second install.
    shutil.copyfile(VALIDATOR_DIR / "package-lock.json", VALIDATOR_DIR / INSTALLED_STAMP)


def _line(diagnostic: dict[str, str]) -> str:
    return f"{diagnostic['path'] or '<root>'}: {diagnostic['message']} [{diagnostic['code']}]"


def parse_documents(files: list[Path], timeout_s: float = 300.0) -> list[ParserReport]:
    """The parser's report for each file (all in one node process)."""
    if not parser_installed():
        raise ParserUnavailableError(
            f"the npm packages are not installed in {VALIDATOR_DIR}; run "
            "`npm ci --ignore-scripts` there (or .ci/run)"
        )
    done = subprocess.run(
        [_node(), str(SCRIPT), *map(str, files)],
        capture_output=True, text=True, timeout=timeout_s, check=False,
    )
    if done.returncode not in (0, 1):
        raise ParserUnavailableError(f"validate.mjs failed ({done.returncode}): {done.stderr}")
    reports = []
    for raw in done.stdout.splitlines():
        result = json.loads(raw)
        reports.append(
            ParserReport(
                result["file"],
                tuple(_line(d) for d in result["errors"]),
                tuple(_line(d) for d in result["warnings"]),
            )
        )
    if len(reports) != len(files):
        raise ParserUnavailableError(f"validate.mjs reported {len(reports)} of {len(files)} files")
    return reports


def check_documents(files: list[Path]) -> list[ParserReport]:
    """Like :func:`parse_documents`, raising :class:`DocumentRejectedError` on the first error."""
    reports = parse_documents(files)
    for report in reports:
        if not report.ok:
            raise DocumentRejectedError(report.file, report.errors)
    return reports
