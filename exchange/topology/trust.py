"""What the bus trusts: ``topology/trust.toml`` as a model.

Two things live there, both reviewed like any topology change:

- ``[root]``: the SHA-256 fingerprint of the joint-meeting office's root key, which certifies
  every agency's public keys on ``exchange.keys`` (:mod:`exchange.protection.certificates`). A
  reader trusts a certificate only when the root key that signed it has this fingerprint.
- ``[[unsigned]]``: migration exceptions. By default every unsigned event is refused
  (quarantined). An exception names a ``topic`` or a ``source`` agency (or both: that agency on
  that topic) whose unsigned events are accepted, with a ``reason`` and an ``until`` date, both
  required. It applies up to and including ``until`` (UTC); from the next day on it no longer
  applies and unsigned events are refused again. ``exchange topology plan`` prints every one.

Every problem is a :class:`~exchange.topology.exceptions.TopologyFileError` naming the file,
the entry and the rule.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from exchange.topology.exceptions import TopologyFileError
from exchange.topology.loader import default_topology_dir
from exchange.topology.model import Topology

TRUST_FILE = "trust.toml"
FINGERPRINT = re.compile(r"^SHA256:[0-9a-f]{64}$")
_ROOT_KEYS = {"fingerprint", "holder", "note"}
_UNSIGNED_KEYS = {"topic", "source", "reason", "until"}


@dataclass(frozen=True)
class UnsignedException:
    """Unsigned events accepted on ``topic`` (any source) or from ``source`` (any topic), or
    from ``source`` on ``topic``, for ``reason``, up to and including ``until``."""

    topic: str | None
    source: str | None
    reason: str
    until: date

    def covers(self, topic: str, agency: str | None) -> bool:
        return (self.topic is None or self.topic == topic) and (
            self.source is None or self.source == agency
        )

    def in_force(self, today: date) -> bool:
        return today <= self.until

    def describe(self) -> str:
        scope = " ".join(
            part
            for part in (
                f"topic {self.topic}" if self.topic else "",
                f"source {self.source}" if self.source else "",
            )
            if part
        )
        return f"unsigned events accepted for {scope} until {self.until}: {self.reason}"


@dataclass(frozen=True)
class Trust:
    """The pinned root fingerprint (None: nothing pinned, every certificate refused) and the
    migration exceptions."""

    root_fingerprint: str | None
    unsigned: tuple[UnsignedException, ...] = ()

    def unsigned_refusal(self, topic: str, agency: str | None, today: date) -> str | None:
        """Why an unsigned record on ``topic`` claiming ``agency`` is refused; None when an
        exception in force accepts it."""
        covering = [e for e in self.unsigned if e.covers(topic, agency)]
        if any(e.in_force(today) for e in covering):
            return None
        if covering:
            ended = max(e.until for e in covering)
            return f"the migration exception for it ended on {ended} (topology/{TRUST_FILE})"
        return f"no migration exception in topology/{TRUST_FILE} accepts unsigned events here"

    def render(self, today: date) -> str:
        """Every exception, one a line, with whether it is in force on ``today``."""
        if not self.unsigned:
            return "migration exceptions: none (every unsigned event is refused)"
        lines = [f"migration exceptions ({len(self.unsigned)}):"]
        for e in self.unsigned:
            state = "in force" if e.in_force(today) else "EXPIRED"
            lines.append(f"  [{state}] {e.describe()}")
        return "\n".join(lines)


class MigrationPolicy:
    """:meth:`Trust.unsigned_refusal` with a clock (what :class:`~exchange.protection.signing.
    Verifier` consults for an unsigned record)."""

    def __init__(self, trust: Trust, now: Callable[[], datetime] | None = None) -> None:
        self.trust = trust
        self.now = now or (lambda: datetime.now(UTC))

    def refusal(self, topic: str, agency: str | None) -> str | None:
        return self.trust.unsigned_refusal(topic, agency, self.now().astimezone(UTC).date())


def load_trust(root: Path | None = None, topology: Topology | None = None) -> Trust:
    """Read and check ``trust.toml`` in ``root`` (default: the topology folder); topics and
    agencies named by exceptions must exist in ``topology`` when it is given. A missing file
    is a trust with no root pinned and no exceptions (refuse everything)."""
    file = (default_topology_dir() if root is None else root) / TRUST_FILE
    if not file.is_file():
        return Trust(None)
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise TopologyFileError(file, "", f"cannot read: {error}") from error
    unknown = set(data) - {"root", "unsigned"}
    if unknown:
        raise TopologyFileError(file, sorted(unknown)[0], "unknown table; expected root, unsigned")
    return Trust(_root(file, data.get("root")), _exceptions(file, data.get("unsigned"), topology))


def _root(file: Path, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise TopologyFileError(file, "root", "must be a table")
    _only(file, "root", raw, _ROOT_KEYS)
    fingerprint = raw.get("fingerprint")
    if not isinstance(fingerprint, str) or not FINGERPRINT.match(fingerprint):
        raise TopologyFileError(
            file, "root.fingerprint",
            "must be SHA256:<64 lowercase hex> (printed by `exchange keys root-init`)",
        )  # fmt: skip
    return fingerprint


def _exceptions(file: Path, raw: Any, topology: Topology | None) -> tuple[UnsignedException, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise TopologyFileError(file, "unsigned", "must be an array of tables ([[unsigned]])")
    found = []
    for i, entry in enumerate(raw):
        where = f"unsigned[{i}]"
        if not isinstance(entry, dict):
            raise TopologyFileError(file, where, "must be a table")
        _only(file, where, entry, _UNSIGNED_KEYS)
        topic, source = entry.get("topic"), entry.get("source")
        reason, until = entry.get("reason"), entry.get("until")
        if topic is None and source is None:
            raise TopologyFileError(file, where, "needs a topic, a source agency, or both")
        for name, value in (("topic", topic), ("source", source)):
            if value is not None and (not isinstance(value, str) or not value):
                raise TopologyFileError(file, f"{where}.{name}", "must be a non-empty string")
        if not isinstance(reason, str) or not reason.strip():
            raise TopologyFileError(file, f"{where}.reason", "is required: say why, for whom")
        if not isinstance(until, date) or isinstance(until, datetime):
            raise TopologyFileError(
                file, f"{where}.until", "is required: a TOML date (e.g. 2027-03-31), the last day"
            )
        _known(file, where, topology, topic, source)
        found.append(UnsignedException(topic, source, reason.strip(), until))
    return tuple(found)


def _known(
    file: Path, where: str, topology: Topology | None, topic: str | None, source: str | None
) -> None:
    if topology is None:
        return
    try:
        if topic is not None:
            topology.topic(topic)
        if source is not None:
            topology.agency(source)
    except KeyError as error:
        raise TopologyFileError(file, where, str(error)) from None


def _only(file: Path, where: str, raw: dict[str, Any], allowed: set[str]) -> None:
    for key in raw:
        if key not in allowed:
            raise TopologyFileError(file, f"{where}.{key}", f"unknown key; use {sorted(allowed)}")
