"""Errors of the topology package (its branch of :mod:`exchange.errors`)::

ExchangeError
└── TopologyError
    ├── TopologyFileError      a topology file is unreadable or inconsistent
    ├── UnknownNameError       a look-up of an agency or topic the topology does not name
    └── ApplyError             the cluster refused a planned action
"""

from __future__ import annotations

from pathlib import Path

from exchange.errors import ExchangeError


class TopologyError(ExchangeError):
    """Root of the topology package's errors."""


class TopologyFileError(TopologyError):
    """A topology file cannot be read, or says something inconsistent.

    ``path`` locates the problem inside the file, e.g. ``topic[exchange.rescue].readers[2]``.
    """

    def __init__(self, file: Path | str, path: str, problem: str) -> None:
        self.file = Path(file)
        self.path = path
        self.problem = problem
        where = f"{self.file}: {path}" if path else str(self.file)
        super().__init__(f"{where}: {problem} (fix the topology file and load it again)")


class UnknownNameError(TopologyError, KeyError):
    """An agency id or topic name that the topology does not declare."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = known
        shown = ", ".join(known[:12]) + (" …" if len(known) > 12 else "")
        super().__init__(f"no {kind} {name!r} in the topology; known: {shown}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class ApplyError(TopologyError):
    """The cluster refused an action of a plan. ``action`` is the planned action,
    ``cause`` the broker's (or client's) error. Actions before it were applied; run
    ``exchange topology plan`` to see what is left."""

    def __init__(self, action: object, cause: BaseException | str) -> None:
        self.action = action
        self.cause = cause
        super().__init__(
            f"could not apply {action}: {cause}; fix the cause, then plan and apply again"
        )
