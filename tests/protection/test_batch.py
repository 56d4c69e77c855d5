"""The Merkle tree of batch signatures against RFC 6962's hashes and published test vectors."""

from __future__ import annotations

import hashlib

import pytest

from exchange.protection import batch
from exchange.protection.exceptions import ProofError

# The test data of the Certificate Transparency reference implementation (merkle_tree_test):
# leaf inputs and the tree heads of their first 1..8 leaves, and inclusion proofs.
CT_INPUTS = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PROOFS = [  # (index, size, path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def N(left: bytes, right: bytes) -> bytes:  # noqa: N802 -- the RFC's node, short on purpose
    return sha(b"\x01" + left + right)


# Leaves L0..L8 and the tree of each size written out by hand from RFC 6962 §2.1 (k = the
# largest power of two below n; left subtree D[0:k], right D[k:n]).
L = [sha(b"\x00" + f"event {i}".encode()) for i in range(9)]
N01, N23, N45, N67 = N(L[0], L[1]), N(L[2], L[3]), N(L[4], L[5]), N(L[6], L[7])
BY_HAND = {
    1: L[0],
    2: N01,
    3: N(N01, L[2]),
    4: N(N01, N23),
    5: N(N(N01, N23), L[4]),
    6: N(N(N01, N23), N45),
    7: N(N(N01, N23), N(N45, L[6])),
    8: N(N(N01, N23), N(N45, N67)),
    9: N(N(N(N01, N23), N(N45, N67)), L[8]),
}


def test_leaf_and_node_hashes_are_rfc_6962() -> None:
    assert batch.leaf_hash(b"") == sha(b"\x00")
    assert batch.leaf_hash(b"event 3") == L[3]
    assert batch.node_hash(L[0], L[1]) == N01


@pytest.mark.parametrize("size", range(1, 10))
def test_roots_of_sizes_1_to_9_are_the_hand_computed_ones(size: int) -> None:
    leaves = [batch.leaf_hash(f"event {i}".encode()) for i in range(size)]
    assert batch.root(leaves) == BY_HAND[size]
    root, paths = batch.tree(leaves)
    assert root == BY_HAND[size]
    for index, path in enumerate(paths):
        assert len(path) == batch.path_length(index, size)
        assert batch.root_from_path(leaves[index], index, size, path) == BY_HAND[size]


def test_the_hand_computed_paths_of_a_tree_of_7() -> None:
    _, paths = batch.tree(L[:7])
    assert paths[0] == [L[1], N23, N(N45, L[6])]
    assert paths[5] == [L[4], L[6], N(N01, N23)]
    assert paths[6] == [N45, N(N01, N23)]  # the lone last leaf skips a level


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_certificate_transparency_vectors(size: int) -> None:
    leaves = [batch.leaf_hash(data) for data in CT_INPUTS[:size]]
    assert batch.root(leaves).hex() == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), CT_PROOFS)
def test_audit_paths_match_the_certificate_transparency_vectors(
    index: int, size: int, path: list[str]
) -> None:
    leaves = [batch.leaf_hash(data) for data in CT_INPUTS[:size]]
    _, paths = batch.tree(leaves)
    assert [h.hex() for h in paths[index]] == path
    proof = [bytes.fromhex(h) for h in path]
    assert batch.root_from_path(leaves[index], index, size, proof).hex() == CT_ROOTS[size - 1]


def test_every_path_of_many_sizes_folds_to_its_root_and_nowhere_else() -> None:
    for size in (2, 3, 10, 31, 32, 33, 100):
        leaves = [batch.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
        root, paths = batch.tree(leaves)
        for index, path in enumerate(paths):
            assert batch.root_from_path(leaves[index], index, size, path) == root
            other = (index + 1) % size
            assert batch.root_from_path(leaves[other], index, size, path) != root


def test_paths_that_cannot_belong_to_the_index_and_size_are_refused() -> None:
    leaves = L[:6]
    _, paths = batch.tree(leaves)
    with pytest.raises(ProofError, match="not below the tree size"):
        batch.root_from_path(leaves[0], 6, 6, paths[0])
    with pytest.raises(ProofError, match="shorter than 3"):
        batch.root_from_path(leaves[0], 0, 6, paths[0][:-1])
    with pytest.raises(ProofError, match="longer than 3"):
        batch.root_from_path(leaves[0], 0, 6, [*paths[0], L[8]])
    with pytest.raises(ProofError, match="longer than 2"):  # leaf 5 of 6 has a 2-hash path
        batch.root_from_path(leaves[5], 5, 6, paths[0])
    with pytest.raises(ProofError, match="33 bytes"):
        batch.root_from_path(leaves[0], 0, 6, [paths[0][0] + b"x", *paths[0][1:]])
    with pytest.raises(ValueError, match="at least one leaf"):
        batch.tree([])
