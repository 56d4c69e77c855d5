"""Errors of the publishing and consuming clients (a branch of ``ExchangeError``).

The Kafka client's own errors are translated into these where a client is opened or used
(:func:`exchange.client.translate.translated`), so that an entry point prints one line that
says what to do instead of a traceback.
"""

from __future__ import annotations

from exchange.errors import ExchangeError
from exchange.models.exceptions import ValidationFailed


class ClientError(ExchangeError):
    """Publishing or consuming failed."""


class NoTopicError(ClientError):
    """The topology gives the calling agency no topic (or several) for this event."""

    def __init__(self, agency: str, event_type: str, candidates: list[str]) -> None:
        self.agency = agency
        self.event_type = event_type
        self.candidates = candidates
        if candidates:
            hint = f"several topics fit ({', '.join(candidates)}): name one with --topic"
        else:
            hint = "no topic in topology/topics.toml lets this agency write it"
        super().__init__(f"agency {agency!r} cannot publish {event_type}: {hint}")


class PublishError(ClientError):
    """The broker did not accept a record."""

    def __init__(self, topic: str, cause: BaseException) -> None:
        self.topic = topic
        self.cause = cause
        name = type(cause).__name__
        advice = (
            " (the principal lacks the ACL: check topology/topics.toml writers and run "
            "`exchange topology apply`)" if "Authorization" in name else ""
        )
        super().__init__(f"publishing to {topic!r} failed: {name}: {cause}{advice}")


class BatchPublishError(ClientError):
    """Some events of a batch were not accepted. ``results`` has one entry per event, in order:
    its :class:`~exchange.client.publisher.PublishResult`, or the :class:`PublishError` that
    refused it; resend those (with the same ``ce_id``) or dead-letter them."""

    def __init__(self, results: list[object]) -> None:
        self.results = results
        failed = [r for r in results if isinstance(r, PublishError)]
        self.failed = len(failed)
        first = f": first {failed[0]}" if failed else ""
        super().__init__(f"{len(failed)} of {len(results)} events were not published{first}")


class NotAuthorizedError(ClientError):
    """The broker denied the principal access to a topic or consumer group."""

    def __init__(self, principal: str | None, what: str, cause: BaseException) -> None:
        self.principal = principal
        self.what = what
        self.cause = cause
        super().__init__(
            f"principal {principal!r} is not authorized for {what} ({type(cause).__name__}); "
            "an agency reads only the topics addressed to it (topology/topics.toml readers)"
        )


class SnapshotIncompleteError(ClientError):
    """A topic could not be read to its end in time; ``left`` maps partitions to the offsets
    still missing. Retry, or give more time (``--timeout``)."""

    def __init__(self, topic: str, timeout_s: float, left: dict[int, int]) -> None:
        self.topic = topic
        self.timeout_s = timeout_s
        self.left = left
        super().__init__(
            f"could not read {topic!r} to its end in {timeout_s:g} s ({sum(left.values())} "
            "records left); is the broker reachable? retry with a longer --timeout"
        )


class BusUnreachableError(ClientError):
    """No broker of ``bootstrap`` answered (down, wrong address, or credentials refused)."""

    def __init__(self, bootstrap: str, cause: BaseException) -> None:
        self.bootstrap = bootstrap
        self.cause = cause
        super().__init__(
            f"cannot reach the Kafka broker at {bootstrap} ({type(cause).__name__}); start it "
            "(`exchange broker up`) or check EXCHANGE_KAFKA__BOOTSTRAP_SERVERS, then retry"
        )


class KafkaClientError(ClientError):
    """Another error of the Kafka client, with its class name; retry, or run with -v."""

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause
        name, text = type(cause).__name__, str(cause)
        said = text if text.startswith(name) else f"{name}: {text}"
        super().__init__(
            f"the Kafka client failed: {said}; check the broker "
            "(`exchange broker status`) and retry, or run with -v for details"
        )
class AddresseeError(ClientError, ValidationFailed):
    """An addressed event names an addressee without an inbox for it, or was sent to another
    agency's inbox: a field error (``.errors`` names the addressee's field), refused before
    anything is sent (a gateway answers 422)."""


class SenderError(ClientError, ValidationFailed):
    """The event (or its ``ce_source``) names a sender other than the publishing agency: a
    field error, refused before anything is sent."""
