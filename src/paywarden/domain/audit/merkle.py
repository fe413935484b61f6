"""Merkle tree hashing and proofs exactly as RFC 9162 (Certificate Transparency 2.0), §2.1.

The tree is kept as its *perfect* subtrees: node ``(level, idx)`` is the hash of
leaves ``[idx * 2**level, (idx + 1) * 2**level)``. Every subtree a proof needs
is a run of at most log2(n) such nodes, so a proof reads O(log n) stored
hashes instead of recomputing the tree. Functions here say which nodes they
need and assemble answers from them; reading the nodes is the caller's job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

HASH_SIZE = 32
Node = tuple[int, int]  # (level, idx)

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# -- which perfect nodes a subtree is made of ----------------------------------


def chunks(lo: int, hi: int) -> list[Node]:
    """The perfect nodes that make up MTH(D[lo:hi]), left to right.

    Valid for every subtree the RFC's recursion reaches (``lo`` is aligned to
    the subtree's size class), which is all that roots and proofs ask for.
    """
    out: list[Node] = []
    while lo < hi:
        size = 1 << ((hi - lo).bit_length() - 1)
        if lo % size:
            raise ValueError(f"[{lo}, {hi}) is not a subtree of an RFC 9162 tree")
        out.append((size.bit_length() - 1, lo // size))
        lo += size
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a subtree from its perfect nodes (as :func:`chunks` lists them)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def subtree(lo: int, hi: int, nodes: Mapping[Node, bytes]) -> bytes:
    return fold([nodes[c] for c in chunks(lo, hi)])


def root_nodes(tree_size: int) -> list[Node]:
    return chunks(0, tree_size)


# -- proofs: which subtrees, in RFC 9162 order ----------------------------------


def inclusion_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """PATH(m, D[n]) of §2.1.3.1 as the subtree ranges whose hashes it lists."""
    if not 0 <= index < tree_size:
        raise ValueError("index must be below tree_size")
    out: list[tuple[int, int]] = []
    lo, hi, m = 0, tree_size, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m = lo + k, m - k
    out.reverse()  # the recursion appends on the way back up: leaf's sibling first
    return out


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """PROOF(m, D[n]) of §2.1.4.1 as the subtree ranges whose hashes it lists."""
    if not 0 < first <= second:
        raise ValueError("need 0 < first <= second")
    out: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, second, first, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        out.append((lo, hi))
    out.reverse()
    return out


def needed(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    return {c for lo, hi in ranges for c in chunks(lo, hi)}


def proof(ranges: Sequence[tuple[int, int]], nodes: Mapping[Node, bytes]) -> list[bytes]:
    return [subtree(lo, hi, nodes) for lo, hi in ranges]


# -- appending ------------------------------------------------------------------


def frontier(tree_size: int) -> list[Node]:
    """The perfect nodes a new leaf at ``tree_size`` may be combined with."""
    return root_nodes(tree_size)


def append(start: int, leaf_hashes: Sequence[bytes],
           known: Mapping[Node, bytes]) -> list[tuple[int, int, bytes]]:
    """The nodes to store when ``leaf_hashes`` become leaves ``start``…: level 0 and
    every perfect node they complete. ``known`` holds :func:`frontier` of ``start``."""
    have = dict(known)
    out: list[tuple[int, int, bytes]] = []
    for offset, h in enumerate(leaf_hashes):
        idx, level = start + offset, 0
        have[(0, idx)] = h
        out.append((0, idx, h))
        while idx & 1:
            h = node_hash(have[(level, idx - 1)], h)
            level, idx = level + 1, idx >> 1
            have[(level, idx)] = h
            out.append((level, idx, h))
    return out


# -- verification (§2.1.3.2, §2.1.4.2): what an auditor runs ----------------------


def verify_inclusion(leaf_hash_: bytes, index: int, tree_size: int, path: Sequence[bytes],
                     root: bytes) -> bool:
    if not 0 <= index < tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf_hash_
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       path: Sequence[bytes]) -> bool:
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if not path:
        return False
    proof_ = list(path)
    if first & (first - 1) == 0:  # a power of two: first_root is the first node
        proof_.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof_[0]
    for c in proof_[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
