"""Errors of the protection layer.

::

    ExchangeError                           (exchange.errors)
    └── ProtectionError
        ├── KeyStoreError                   a key file is missing, unreadable or inconsistent
        │   └── UnknownKeyError (KeyError)  no key has this id (or no active key of a kind)
        │       └── UncertifiedKeyError     the bus has no valid root certificate for the key
        ├── CertificateError                a key certificate is refused; ``.reason`` says why
        ├── KeyRequestError                 a key request is refused; ``.key_id``, ``.problem``
        ├── EntitlementError                topology/entitlements.toml is wrong
        ├── SealError                       an event cannot be sealed
        ├── VerificationError               a record must be quarantined; ``.reason`` says why
        ├── ProofError (ValueError)         a Merkle audit path does not fold to a root; ``.rule``
        └── AuditChainError                 the audit trail is broken; ``.chain``, ``.seq``

``VerificationError.reason`` is a short code for quarantine headers and metric labels:
``unsigned``, ``bad-signature``, ``unknown-key``, ``revoked-key``, ``wrong-agency``,
``not-a-writer``, ``replayed``, ``bad-envelope``, ``uncertified-key``.
"""

from __future__ import annotations

from exchange.errors import ExchangeError


class ProtectionError(ExchangeError):
    """Root of the protection layer's errors."""


class KeyStoreError(ProtectionError):
    """The key store cannot give a key: the message says which file or key and what to run."""


class UnknownKeyError(KeyStoreError, KeyError):
    def __init__(self, key_id: str, hint: str = "") -> None:
        self.key_id = key_id
        super().__init__(f"no key {key_id!r} in the key store{hint}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class UncertifiedKeyError(UnknownKeyError):
    """The key is not known from a certificate of the pinned root on the bus (never announced,
    or announced with a certificate that was refused: ``problem`` says which)."""

    def __init__(self, key_id: str, problem: str) -> None:
        self.problem = problem
        super().__init__(key_id, f": not certified by the pinned root ({problem})")


class CertificateError(ProtectionError):
    """A key certificate on ``exchange.keys`` is refused. ``reason``: ``malformed``,
    ``untrusted-root``, ``bad-signature``, ``conflicting``."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(f"[{reason}] {message}")


class KeyRequestError(ProtectionError):
    """A request to certify a key is refused: ``problem`` says which rule it breaks."""

    def __init__(self, key_id: str, problem: str) -> None:
        self.key_id = key_id
        self.problem = problem
        super().__init__(f"key request {key_id}: {problem}")


class EntitlementError(ProtectionError):
    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"entitlements {where}: {problem}")


class SealError(ProtectionError):
    def __init__(self, event_type: str, problem: str) -> None:
        self.event_type = event_type
        self.problem = problem
        super().__init__(f"cannot seal {event_type}: {problem}")


class VerificationError(ProtectionError):
    """A record failed verification: quarantine it with ``reason``; never act on it."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(f"[{reason}] {message}")


class ProofError(ProtectionError, ValueError):
    """A batch signature's audit path cannot be folded to a root (:mod:`.batch`); ``rule`` says
    which rule it breaks. The verifier turns it into a ``bad-signature`` refusal."""

    def __init__(self, rule: str) -> None:
        self.rule = rule
        super().__init__(rule)


class AuditChainError(ProtectionError):
    def __init__(self, chain: str, seq: int, problem: str) -> None:
        self.chain = chain
        self.seq = seq
        self.problem = problem
        super().__init__(f"audit chain {chain!r} broken at seq {seq}: {problem}")
