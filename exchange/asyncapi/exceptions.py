"""Errors of the AsyncAPI package.

::

    ExchangeError                           (exchange.errors)
    └── AsyncApiError
        ├── ParserUnavailableError          node or the npm packages of the parser are missing
        └── DocumentRejectedError           the AsyncAPI parser found errors; ``.errors``
"""

from __future__ import annotations

from collections.abc import Sequence

from exchange.errors import ExchangeError


class AsyncApiError(ExchangeError):
    """Root of the AsyncAPI package's errors."""


class ParserUnavailableError(AsyncApiError):
    """The AsyncAPI parser cannot run: ``problem`` says what is missing and what to run."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"AsyncAPI parser unavailable: {problem}")


class DocumentRejectedError(AsyncApiError):
    """The AsyncAPI parser reported errors for ``file``: each is ``path: message [code]``."""

    def __init__(self, file: str, errors: Sequence[str]) -> None:
        self.file = file
        self.errors = tuple(errors)
        shown = "; ".join(self.errors[:5])
        more = f" (+{len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"{file}: the AsyncAPI parser rejected it: {shown}{more}")
