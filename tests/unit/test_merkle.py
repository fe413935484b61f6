"""RFC 9162 tree hashing and proofs against the Certificate Transparency test vectors
(transparency-dev/merkle and Trillian's logverifier tests), plus every corruption of
a good proof that a verifier must refuse."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paywarden.domain.audit import merkle

LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
INCLUSION = [  # (index, tree_size, proof)
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
    (0, 1, []),
]
CONSISTENCY = [  # (first, second, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]


def stored(leaves: list[bytes]) -> dict[merkle.Node, bytes]:
    """The perfect nodes of a tree, built leaf by leaf the way the log appends."""
    nodes: dict[merkle.Node, bytes] = {}
    for i, leaf in enumerate(leaves):
        known = {n: nodes[n] for n in merkle.frontier(i)}
        for level, idx, h in merkle.append(i, [merkle.leaf_hash(leaf)], known):
            nodes[(level, idx)] = h
    return nodes


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH straight from the RFC's recursive definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return merkle.leaf_hash(leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


NODES = stored(LEAVES)


def test_the_empty_tree_hashes_to_sha256_of_nothing() -> None:
    assert merkle.fold([]) == bytes.fromhex(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_vectors(size: int) -> None:
    assert merkle.subtree(0, size, NODES) == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION)
def test_inclusion_proofs_match_the_vectors_and_verify(index: int, size: int,
                                                       expected: list[str]) -> None:
    path = merkle.proof(merkle.inclusion_ranges(index, size), NODES)
    assert [h.hex() for h in path] == expected
    assert merkle.verify_inclusion(merkle.leaf_hash(LEAVES[index]), index, size, path,
                                   ROOTS[size - 1])


@pytest.mark.parametrize(("first", "second", "expected"), CONSISTENCY)
def test_consistency_proofs_match_the_vectors_and_verify(first: int, second: int,
                                                         expected: list[str]) -> None:
    path = merkle.proof(merkle.consistency_ranges(first, second), NODES)
    assert [h.hex() for h in path] == expected
    assert merkle.verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], path)


def corruptions(path: list[bytes]) -> list[list[bytes]]:
    out = [path + [b""], path + [ROOTS[-1]], [ROOTS[0], *path], [b"", *path]]
    for i in range(len(path)):
        flipped = list(path)
        flipped[i] = bytes([path[i][0] ^ 8]) + path[i][1:]
        out.append(flipped)
    if path:
        out.append(path[:-1])
    return out


@pytest.mark.parametrize(("index", "size", "good"), [v for v in INCLUSION if v[2]])
def test_a_corrupted_inclusion_proof_is_refused(index: int, size: int, good: list[str]) -> None:
    path = [bytes.fromhex(h) for h in good]
    leaf = merkle.leaf_hash(LEAVES[index])
    root = ROOTS[size - 1]
    for bad in corruptions(path):
        assert not merkle.verify_inclusion(leaf, index, size, bad, root)
    for i, n in ((index - 1, size), (index + 1, size), (index, size * 2), (index, size // 2)):
        assert not merkle.verify_inclusion(leaf, i, n, path, root)
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"other"), index, size, path, root)
    assert not merkle.verify_inclusion(leaf, index, size, path, merkle.EMPTY_ROOT)


@pytest.mark.parametrize(("first", "second", "good"), [v for v in CONSISTENCY if v[2]])
def test_a_corrupted_consistency_proof_is_refused(first: int, second: int,
                                                  good: list[str]) -> None:
    path = [bytes.fromhex(h) for h in good]
    r1, r2 = ROOTS[first - 1], ROOTS[second - 1]
    for bad in [*corruptions(path), []]:
        assert not merkle.verify_consistency(first, second, r1, r2, bad)
    assert not merkle.verify_consistency(first, second, r2, r1, path)
    assert not merkle.verify_consistency(first, second, b"rewritten", r2, path)
    assert not merkle.verify_consistency(first + 1, second, r1, r2, path)
    assert not merkle.verify_consistency(second, first, r2, r1, path)


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_stored_nodes_give_the_rfc_root_and_proofs_that_verify(leaves: list[bytes],
                                                               data: st.DataObject) -> None:
    nodes = stored(leaves)
    n = len(leaves)
    assert merkle.subtree(0, n, nodes) == reference_root(leaves)
    m = data.draw(st.integers(0, n - 1))
    path = merkle.proof(merkle.inclusion_ranges(m, n), nodes)
    assert len(path) <= n.bit_length()
    assert merkle.verify_inclusion(merkle.leaf_hash(leaves[m]), m, n, path, reference_root(leaves))
    first = data.draw(st.integers(1, n))
    cons = merkle.proof(merkle.consistency_ranges(first, n), nodes)
    assert merkle.verify_consistency(first, n, reference_root(leaves[:first]),
                                     reference_root(leaves), cons)


def test_a_batch_append_stores_the_same_nodes_as_one_by_one() -> None:
    hashes = [merkle.leaf_hash(leaf) for leaf in LEAVES]
    first = merkle.append(0, hashes[:3], {})
    known = {(lv, i): h for lv, i, h in first}
    rest = merkle.append(3, hashes[3:], {n: known[n] for n in merkle.frontier(3)})
    assert {(lv, i): h for lv, i, h in first + rest} == NODES


@pytest.mark.parametrize("size", [1, 2, 3, 1000, 1023, 1025, 65_537, 10**9 + 7])
def test_a_proof_reads_a_logarithmic_number_of_stored_nodes(size: int) -> None:
    bound = 2 * size.bit_length()
    for index in {0, size // 3, size // 2, size - 1}:
        assert len(merkle.needed(merkle.inclusion_ranges(index, size))) <= bound
    for first in {1, size // 3 or 1, size // 2 or 1, size}:
        assert len(merkle.needed(merkle.consistency_ranges(first, size))) <= bound
    assert len(merkle.root_nodes(size)) <= size.bit_length()
