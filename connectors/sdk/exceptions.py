"""Errors of the connector SDK and its adapters (a branch of ``ExchangeError``)::

ExchangeError
└── ConnectorError                    (connectors.sdk.exceptions)
    ├── ConnectorConfigError          .path, .errors: the config file's broken fields
    ├── MissingExtraError (also ImportError)  .extra: the pip extra to install
    ├── DeliveryError                 a target did not take a record; retried
    │   └── PermanentDeliveryError    retrying cannot help (e.g. HTTP 4xx): dead-letter now
    └── RetriesExhaustedError         .attempts, .last: given up after the retry policy
"""

from __future__ import annotations

from pathlib import Path

from exchange.errors import ExchangeError
from exchange.models.exceptions import FieldError


class ConnectorError(ExchangeError):
    """A connector could not be configured or could not move a record."""


class ConnectorConfigError(ConnectorError):
    """A connector's configuration file is unreadable or breaks its model."""

    def __init__(self, path: Path | str, errors: list[FieldError]) -> None:
        self.path = Path(path)
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(
            f"connector config {self.path}: {len(errors)} error(s); fix the named field(s)\n{lines}"
        )


class MissingExtraError(ConnectorError, ImportError):
    """An adapter needs an optional dependency that is not installed."""

    def __init__(self, adapter: str, extra: str, module: str) -> None:
        self.adapter = adapter
        self.extra = extra
        super().__init__(
            f"the {adapter} connector needs {module!r}: pip install 'xian-exchange[{extra}]'"
        )


class DeliveryError(ConnectorError):
    """A target (HTTP endpoint, folder, database) did not take a record; worth retrying.

    ``retry_after`` (seconds), when the target said how long to wait, overrides the backoff.
    """

    def __init__(self, target: str, problem: str, *, retry_after: float | None = None) -> None:
        self.target = target
        self.problem = problem
        self.retry_after = retry_after
        super().__init__(f"{target}: {problem}")


class PermanentDeliveryError(DeliveryError):
    """The target refused the record for good (e.g. HTTP 400): dead-letter it without retrying."""


class RetriesExhaustedError(ConnectorError):
    """Every attempt of the retry policy failed; ``last`` is the last attempt's error."""

    def __init__(self, what: str, attempts: int, last: BaseException) -> None:
        self.what = what
        self.attempts = attempts
        self.last = last
        super().__init__(
            f"{what}: gave up after {attempts} attempt(s); last error: "
            f"{type(last).__name__}: {last}"
        )
