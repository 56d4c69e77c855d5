"""Check audit chains against their signed checkpoints: what is missing, rewritten or repeated.

:func:`verify_anchored` reads every chain in topic order and names each finding:

- ``duplicate`` (not a break): a record equal to one already read, at the same ``seq``: a send
  retried after its acknowledgement was lost, by a producer that was not idempotent;
- ``forked``: another record with an already used ``seq`` (two writers, or an insertion);
- ``gap``: ``seq`` jumps: records missing in the middle;
- ``altered``: a record's ``hash`` does not match its content;
- ``broken-link``: ``prev`` is not the previous record's hash (a record replaced or reordered);
- ``truncated``: a valid checkpoint signs a ``seq`` the chain does not reach: its tail was cut;
- ``rewritten``: the record at a signed ``seq`` is not the signed head: the chain was rewritten
  and rehashed after it was signed;
- ``bad-checkpoint``: a checkpoint whose form, key or signature is wrong;
- ``unreadable``: a record that is not JSON.

Checkpoints come from the audit topic and, so that a cut tail cannot take its checkpoint with
it, from the notary's anchors (:mod:`.notary`). Records after the last checkpoint are reported
as ``unanchored`` (not a break: they are waiting for the next checkpoint).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from exchange.evidence.checkpoints import checkpoint_problem
from exchange.protection.audit import CHECKPOINT_KIND, GENESIS, AuditEntry, record_hash
from exchange.protection.keys import KeyStore

BREAKS = ("forked", "gap", "altered", "broken-link", "truncated", "rewritten", "bad-checkpoint",
          "unreadable")


@dataclass(frozen=True)
class Finding:
    chain: str
    kind: str
    seq: int
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.upper()} {self.chain} at seq {self.seq}: {self.detail}"


@dataclass
class ChainState:
    """One chain as read: its accepted records' hashes, by seq, and its checkpoints."""

    hashes: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    broken: bool = False
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0


@dataclass(frozen=True)
class AnchoredReport:
    chains: dict[str, ChainState]
    findings: tuple[Finding, ...]
    records: int

    @property
    def breaks(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind in BREAKS)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def of(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]


def _where(entry: AuditEntry) -> str:
    return f"(partition {entry.partition}, offset {entry.offset})"


def _link(state: ChainState, chain: str, entry: AuditEntry) -> Finding | None:
    record = entry.record
    expected = len(state.hashes)
    seq = record.get("seq")
    where = _where(entry)
    if not isinstance(seq, int) or seq < 0:
        return Finding(chain, "unreadable", expected, f"seq {seq!r} is not a number {where}")
    if seq < expected:
        if record == state.bodies[seq]:
            state.duplicates += 1
            return Finding(chain, "duplicate", seq, f"a repeated send of seq {seq} {where}")
        return Finding(chain, "forked", seq, f"a second, different record for seq {seq} {where}")
    prev = state.hashes[-1] if state.hashes else GENESIS
    found = None
    if seq > expected:
        found = Finding(chain, "gap", expected, f"seq {expected}..{seq - 1} missing {where}")
    elif record.get("hash") != record_hash(record):
        found = Finding(chain, "altered", seq, f"hash does not match the content {where}")
    elif record.get("prev") != prev:
        found = Finding(chain, "broken-link", seq, f"prev is not the hash of seq {seq - 1} {where}")
    else:
        state.hashes.append(str(record["hash"]))
        state.bodies.append(record)
    return found


def verify_anchored(
    entries: Iterable[AuditEntry], keys: KeyStore, notarised: Iterable[dict[str, Any]] = ()
) -> AnchoredReport:
    """Check every chain of ``entries`` (topic order) against its checkpoints (those on the
    topic and ``notarised``, the ones the notary anchored); see the module docs."""
    chains: dict[str, ChainState] = {}
    findings: list[Finding] = []
    count = 0
    for entry in entries:
        count += 1
        record = entry.record
        chain = str(record.get("chain"))
        state = chains.setdefault(chain, ChainState())
        if "error" in record:
            findings.append(Finding(chain, "unreadable", -1, f"not JSON {_where(entry)}"))
            state.broken = True
        elif record.get("kind") == CHECKPOINT_KIND:
            state.checkpoints.append(record)
        elif not state.broken:
            found = _link(state, chain, entry)
            if found is not None:
                findings.append(found)
                state.broken = found.kind != "duplicate"
    for checkpoint in notarised:
        chains.setdefault(str(checkpoint.get("chain")), ChainState()).checkpoints.append(checkpoint)
    for chain, state in chains.items():
        findings.extend(check_checkpoints(chain, state, keys))
    return AnchoredReport(chains, tuple(findings), count)


def check_checkpoints(chain: str, state: ChainState, keys: KeyStore) -> list[Finding]:
    """Each distinct checkpoint of ``state`` against its accepted records."""
    findings: list[Finding] = []
    seen: set[str] = set()
    signed_up_to = -1
    for checkpoint in state.checkpoints:
        signature = str(checkpoint.get("signature"))
        if signature in seen:
            continue
        seen.add(signature)
        seq = checkpoint.get("seq")
        problem = checkpoint_problem(keys, checkpoint)
        if problem is not None or not isinstance(seq, int):
            number = seq if isinstance(seq, int) else -1
            findings.append(Finding(chain, "bad-checkpoint", number, str(problem)))
            continue
        signed_up_to = max(signed_up_to, seq)
        if seq >= len(state.hashes):
            if not state.broken:
                missing = f"{len(state.hashes)}..{seq}"
                findings.append(Finding(
                    chain, "truncated", len(state.hashes),
                    f"checkpoint of {checkpoint['at']} signs seq {seq}, records {missing} "
                    "are missing",
                ))
        elif state.hashes[seq] != checkpoint["head"]:
            findings.append(Finding(
                chain, "rewritten", seq,
                f"the record at seq {seq} is not the head signed at {checkpoint['at']}",
            ))
    unsigned = len(state.hashes) - 1 - signed_up_to
    if unsigned > 0 and not state.broken:
        findings.append(Finding(
            chain, "unanchored", signed_up_to + 1, f"{unsigned} record(s) after the last checkpoint"
        ))
    return findings
