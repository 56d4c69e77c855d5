"""Checkpoints: a chain's head signed by its writer, so cutting or rewriting the chain shows.

A hash chain alone proves only that its records follow each other: whoever can write the topic
again (an administrator restoring a doctored copy, an unclean leader election that loses the
newest records) can cut its tail or rewrite it and rehash every link. So the writer signs its
chain's head now and then, with its agency's Ed25519 ``sig`` key, in a record of its own on the
audit topic, under the chain's key (so it stays in order with the chain)::

    {"kind": "checkpoint", "chain": "police/4f1c...", "seq": 41, "head": "<hash of seq 41>",
     "at": "...Z", "reason": "records", "key_id": "police.sig.1", "signature": "<base64>"}

The signature covers ``exchange.audit.checkpoint.v1`` (length-prefixed) and the canonical JSON
of every other field. ``reason`` is ``records`` (every ``every_records`` records), ``interval``
(``every_seconds`` passed with new records), ``shutdown`` (a clean stop) or ``retry`` (the same
head signed again to try the audit path after a write failed: :func:`retry_head`). The notary
(:mod:`.notary`) copies every checkpoint into a time-stamped Merkle tree, so a checkpoint lost
with a cut tail is still known.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature

from exchange.protection import batch
from exchange.protection.audit import CHECKPOINT_KIND, AuditSink, AuditTrail
from exchange.protection.exceptions import KeyStoreError
from exchange.protection.keys import KeyStore, parse_key_id

DOMAIN = b"exchange.audit.checkpoint.v1"
FIELDS = ("kind", "chain", "seq", "head", "at", "reason", "key_id", "signature")


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signed_message(checkpoint: dict[str, Any]) -> bytes:
    """The bytes a checkpoint's signature covers."""
    body = {k: v for k, v in checkpoint.items() if k != "signature"}
    return len(DOMAIN).to_bytes(4, "big") + DOMAIN + _canonical(body)


def checkpoint_leaf(checkpoint: dict[str, Any]) -> bytes:
    """The notary's Merkle leaf for a checkpoint: RFC 6962 leaf hash of its canonical JSON."""
    return batch.leaf_hash(_canonical({k: checkpoint[k] for k in FIELDS if k in checkpoint}))


def chain_agency(chain: str) -> str:
    """``police/4f1c...`` -> ``police`` (a chain is named ``<agency>/<id>``)."""
    return chain.partition("/")[0]


def sign_checkpoint(
    keys: KeyStore, agency: str, *, chain: str, seq: int, head: str, reason: str
) -> dict[str, Any]:
    key_id = keys.active(agency, "sig").key_id
    checkpoint: dict[str, Any] = {
        "kind": CHECKPOINT_KIND,
        "chain": chain,
        "seq": seq,
        "head": head,
        "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "reason": reason,
        "key_id": key_id,
    }
    signature = keys.signing_key(key_id).sign(signed_message(checkpoint))
    checkpoint["signature"] = base64.b64encode(signature).decode()
    return checkpoint


def checkpoint_problem(keys: KeyStore, checkpoint: dict[str, Any]) -> str | None:
    """Why ``checkpoint`` cannot be trusted, or None: its form, its key (the chain's agency's,
    not revoked) and its signature."""
    missing = [k for k in FIELDS if k not in checkpoint]
    if missing or set(checkpoint) - set(FIELDS):
        return f"fields must be exactly {', '.join(FIELDS)}"
    if not isinstance(checkpoint["seq"], int) or checkpoint["seq"] < 0:
        return "seq is not a non-negative integer"
    return _signature_problem(keys, checkpoint)


def _signature_problem(keys: KeyStore, checkpoint: dict[str, Any]) -> str | None:
    key_id = str(checkpoint["key_id"])
    try:
        agency, kind, _ = parse_key_id(key_id)
        info = keys.info(key_id)
        public = keys.verifying_key(key_id)
    except KeyStoreError as error:
        return f"key {key_id!r}: {error}"
    if kind != "sig" or agency != chain_agency(str(checkpoint["chain"])):
        return f"{key_id} is not a signing key of the chain's agency"
    if info.status == "revoked":
        return f"{key_id} has been revoked"
    try:
        signature = binascii.a2b_base64(str(checkpoint["signature"]), strict_mode=True)
        public.verify(signature, signed_message(checkpoint))
    except (binascii.Error, ValueError, InvalidSignature):
        return f"the signature by {key_id} does not match"
    return None


@dataclass(frozen=True)
class CheckpointPolicy:
    """When a writer signs its head: every ``every_records`` records, and ``every_seconds``
    after a record that no checkpoint covers yet (and always on a clean stop)."""

    every_records: int = 100
    every_seconds: float = 60.0


class AnchoredTrail(AuditTrail):
    """An :class:`AuditTrail` that signs its head by :class:`CheckpointPolicy`.

    Call :meth:`start` to run the timer and :meth:`close` on a clean stop (a last checkpoint).
    ``on_checkpoint`` hears of each checkpoint written (the fail-closed guard uses it)."""

    def __init__(
        self,
        sink: AuditSink,
        agency: str,
        keys: KeyStore,
        *,
        policy: CheckpointPolicy | None = None,
        chain: str | None = None,
    ) -> None:
        super().__init__(sink, agency, chain=chain)
        self.keys = keys
        self.policy = policy or CheckpointPolicy()
        keys.active(agency, "sig")  # fail now, not at the first checkpoint
        self._signed_seq = -1
        self._first_unsigned: float | None = None
        self._timer: asyncio.Task[None] | None = None
        self.checkpoints: list[dict[str, Any]] = []

    async def record(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        written = await super().record(*args, **kwargs)
        if self._first_unsigned is None:
            self._first_unsigned = time.monotonic()
        if written["seq"] - self._signed_seq >= self.policy.every_records:
            await self.checkpoint("records")
        return written

    async def checkpoint(self, reason: str, *, again: bool = False) -> dict[str, Any] | None:
        """Sign and write the current head (None when nothing new since the last one, unless
        ``again``; None before the first record)."""
        async with self.lock:
            seq, head = self.head
            if seq < 0 or (seq <= self._signed_seq and not again):
                return None
            checkpoint = sign_checkpoint(
                self.keys, self.agency, chain=self.chain, seq=seq, head=head, reason=reason
            )
            await self.sink.write(self.chain.encode(), _canonical(checkpoint))
            self._signed_seq = seq
            self._first_unsigned = None
            self.checkpoints.append(checkpoint)
            return checkpoint

    def start(self) -> None:
        if self._timer is None:
            self._timer = asyncio.create_task(self._tick(), name=f"checkpoints {self.chain}")

    async def checkpoint_if_due(self) -> dict[str, Any] | None:
        """A checkpoint when ``every_seconds`` passed since a record no checkpoint covers (for
        a caller with a timer of its own, like the faust worker; :meth:`start` runs one)."""
        first = self._first_unsigned
        if first is not None and time.monotonic() - first >= self.policy.every_seconds:
            return await self.checkpoint("interval")
        return None

    async def _tick(self) -> None:
        step = min(1.0, self.policy.every_seconds / 4)
        while True:
            await asyncio.sleep(step)
            with contextlib.suppress(Exception):  # a failed write is retried next tick
                await self.checkpoint_if_due()

    async def close(self) -> None:
        """Stop the timer and sign the head one last time (a clean stop)."""
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        await self.checkpoint("shutdown")


async def retry_head(trail: AnchoredTrail) -> bool:
    """Sign ``trail``'s head again (reason ``retry``) to find out whether its audit path works
    again; True when the checkpoint was written. Through a
    :class:`~exchange.evidence.guard.GuardedSink` a success tells the fail-closed guard that
    records are written again (nothing else would: a publisher refused by the guard writes no
    record). A chain with no record yet has no head to sign: False."""
    try:
        return await trail.checkpoint("retry", again=True) is not None
    except Exception:  # noqa: BLE001 - the path still fails: the guard counted it
        return False
