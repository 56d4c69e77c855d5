"""Merkle trees (RFC 6962 §2.1) for batch signatures: one Ed25519 signature per batch of events.

A producer that encodes many events at once hashes each event's signed bytes into a leaf,
builds the tree, signs its root once and gives each event its own *audit path* (the sibling
hashes from its leaf up to the root). A consumer recomputes the leaf from the record it read,
folds the path back to the root and checks the one signature, so every event still verifies
alone, in any order, without the rest of its batch.

Hashes (RFC 6962 §2.1)::

    leaf  = SHA-256(0x00 || data)
    node  = SHA-256(0x01 || left || right)
    MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n

The audit path of leaf ``m`` lists the siblings from the leaf upwards (RFC 6962 §2.1.1);
:func:`root_from_path` is the verification algorithm of RFC 9162 §2.1.3.2, which also refuses
a path that is one hash too short or too long for (index, size).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from exchange.protection.exceptions import ProofError

HASH_SIZE = 32
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH of the given leaf hashes (at least one)."""
    if not leaves:
        raise ValueError("a batch has at least one leaf")
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def tree(leaves: Sequence[bytes]) -> tuple[bytes, list[list[bytes]]]:
    """The root and every leaf's audit path (siblings from the leaf upwards), in one pass."""
    if not leaves:
        raise ValueError("a batch has at least one leaf")
    paths: list[list[bytes]] = [[] for _ in leaves]

    def build(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaves[lo]
        mid = lo + _split(hi - lo)
        left, right = build(lo, mid), build(mid, hi)
        for i in range(lo, mid):
            paths[i].append(right)
        for i in range(mid, hi):
            paths[i].append(left)
        return node_hash(left, right)

    return build(0, len(leaves)), paths


def path_length(index: int, size: int) -> int:
    """How many hashes the audit path of leaf ``index`` in a tree of ``size`` leaves has."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not below the tree size {size}")
    length = 0
    while size > 1:
        k = _split(size)
        if index < k:
            size = k
        else:
            index, size = index - k, size - k
        length += 1
    return length


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """Fold ``path`` from ``leaf`` (at ``index`` of ``size``) up to the root it proves
    (RFC 9162 §2.1.3.2); raises :class:`ProofError` when the path cannot belong there."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not below the tree size {size}")
    sha256 = hashlib.sha256
    fn, sn, r = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ProofError(f"the path is longer than {path_length(index, size)} hashes")
        if len(sibling) != HASH_SIZE:
            raise ProofError(f"a path hash has {len(sibling)} bytes, not {HASH_SIZE}")
        if fn & 1 or fn == sn:
            r = sha256(_NODE + sibling + r).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = sha256(_NODE + r + sibling).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"the path is shorter than {path_length(index, size)} hashes")
    return r
