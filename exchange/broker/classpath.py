"""Assemble the broker's classpath from Maven Central with ``mvn dependency:copy-dependencies``.

The jars land in ``<state>/kafka/lib``; a stamp file holds the SHA-256 of ``pom.xml`` so the
download runs again only when the POM changes.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from exchange.broker.exceptions import BrokerBuildError

POM = Path(__file__).with_name("pom.xml")


def pom_digest(pom: Path = POM) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def ensure_classpath(lib_dir: Path, pom: Path = POM) -> Path:
    """Return ``lib_dir`` filled with the broker's jars, downloading them when needed."""
    stamp = lib_dir / ".pom-sha256"
    digest = pom_digest(pom)
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return lib_dir
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerBuildError(
            ["mvn"], "mvn not found on PATH: install Maven (apt-get install maven)"
        )
    if lib_dir.exists():
        shutil.rmtree(lib_dir)
    lib_dir.mkdir(parents=True)
    command = [
        mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
        f"-DoutputDirectory={lib_dir.resolve()}", "-DincludeScope=runtime",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BrokerBuildError(command, (done.stdout + done.stderr)[-4000:])
    stamp.write_text(digest + "\n")
    return lib_dir


def java_executable() -> str:
    java = shutil.which("java")
    if java is None:
        raise BrokerBuildError(["java"], "java not found on PATH: install a JDK 17 or newer")
    return java
