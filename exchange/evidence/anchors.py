"""Anchors: a Merkle tree over checkpoints, its root time-stamped by an RFC 3161 TSA.

The notary (:mod:`.notary`) gathers the checkpoints of every chain and, now and then, makes an
*anchor*: the checkpoints' leaves (:func:`~exchange.evidence.checkpoints.checkpoint_leaf`) in an
RFC 6962 Merkle tree (:mod:`exchange.protection.batch`, the same tree as batch signatures), and
a time-stamp token over its root. One JSON record on ``exchange.notary``::

    {"kind": "anchor", "at": "...Z", "size": 3, "root": "<hex>", "tsa_url": "http://...",
     "token": "<base64 DER TimeStampToken>", "checkpoints": [<checkpoint>, ...]}

Whoever holds one checkpoint, its index and the anchor's other leaves (or just the audit path,
:func:`proof`) can show that the checkpoint existed at the token's time: fold the path to the
root, then ``openssl ts -verify -digest <root> -token_in -in token.der -CAfile tsa-ca.pem``.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from exchange.evidence.checkpoints import checkpoint_leaf
from exchange.evidence.tsa import TimeStamp
from exchange.protection import batch

ANCHOR_KIND = "anchor"


def merkle_root(checkpoints: list[dict[str, Any]]) -> bytes:
    return batch.root([checkpoint_leaf(c) for c in checkpoints])


def make_anchor(checkpoints: list[dict[str, Any]], stamp: TimeStamp) -> dict[str, Any]:
    return {
        "kind": ANCHOR_KIND,
        "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "size": len(checkpoints),
        "root": stamp.digest.hex(),
        "tsa_url": stamp.tsa_url,
        "token": base64.b64encode(stamp.token).decode(),
        "checkpoints": checkpoints,
    }


def encode_anchor(anchor: dict[str, Any]) -> bytes:
    return json.dumps(anchor, ensure_ascii=False, separators=(",", ":")).encode()


def proof(anchor: dict[str, Any], index: int) -> list[str]:
    """The audit path (hex, leaf upwards) of checkpoint ``index`` in ``anchor``'s tree."""
    leaves = [checkpoint_leaf(c) for c in anchor["checkpoints"]]
    _root, paths = batch.tree(leaves)
    return [h.hex() for h in paths[index]]


def proven_root(checkpoint: dict[str, Any], index: int, size: int, path: list[str]) -> bytes:
    """The root that ``path`` folds ``checkpoint`` up to (raises ``ProofError`` if it cannot)."""
    return batch.root_from_path(
        checkpoint_leaf(checkpoint), index, size, [bytes.fromhex(h) for h in path]
    )


def token_bytes(anchor: dict[str, Any]) -> bytes:
    return base64.b64decode(str(anchor["token"]), validate=True)
