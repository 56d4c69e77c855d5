"""Errors of the local broker manager (a branch of :class:`exchange.errors.ExchangeError`)."""

from __future__ import annotations

from pathlib import Path

from exchange.errors import ExchangeError


class BrokerError(ExchangeError):
    """The local Apache Kafka broker could not be built, started, stopped or reached."""


class BrokerBuildError(BrokerError):
    """The broker's classpath could not be assembled from Maven Central."""

    def __init__(self, command: list[str], output: str) -> None:
        self.command = command
        self.output = output
        super().__init__(
            f"building the Kafka classpath failed ({' '.join(command)}); is Maven installed and "
            f"Maven Central reachable? Last output:\n{output}"
        )


class BrokerStartError(BrokerError):
    """A broker node did not start serving in time."""

    def __init__(self, node_id: int, reason: str, log_file: Path, log_tail: str) -> None:
        self.node_id = node_id
        self.reason = reason
        self.log_file = log_file
        self.log_tail = log_tail
        super().__init__(
            f"broker node {node_id} did not start: {reason}. See {log_file}; last lines:\n"
            f"{log_tail}"
        )
