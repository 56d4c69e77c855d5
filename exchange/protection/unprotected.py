"""The insecure mode, spelled out: events sent unsigned and unsealed, records read unverified.

Every client of the bus (:class:`~exchange.client.publisher.Publisher`,
:class:`~exchange.client.consumer.EventConsumer`, the snapshot reader, the connectors, the
worker) takes a ``protection`` that is either a
:class:`~exchange.protection.protected.ProtectedCodec` (the ordinary path: seal + sign, verify +
open, quarantine what fails) or an :class:`Unprotected`, which a caller must build on purpose,
with its reason. There is no default and no ``None``: code that forgets protection does not run.

:class:`Unprotected` exists for measurements (the benchmarks' unprotected baseline) and for
reading a bus that was never protected; ``exchange ... --unprotected`` builds one. Each client
built with it logs a warning when it starts (:meth:`Unprotected.warn`), every time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

__all__ = ["Unprotected"]

log = logging.getLogger("exchange.unprotected")


@dataclass(frozen=True)
class Unprotected:
    """No signatures, no sealing, no verification (see the module docs). ``reason`` says why."""

    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("Unprotected needs a reason (why this client may skip protection)")

    def warn(self, who: str) -> None:
        """Say loudly that ``who`` runs without protection (called on every start)."""
        log.warning(
            "UNPROTECTED: %s sends and reads events unsigned, unsealed and unverified (%s); "
            "never use this mode with real data",
            who, self.reason,
        )
