"""Pure-Python twin of node._native: SHA-256 and RFC 6962 / RFC 9162 Merkle trees.

Same names, results and errors as the compiled core, written for clarity rather
than speed; node.merkle falls back to it when node._native is not built, and
ORECHAIN_PURE_PYTHON=1 forces it. docs/merkle.md is the contract both follow.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable, Sequence

IMPLEMENTATION = "python"
HASH_SIZE = 32
# A tree of fewer than 2^64 leaves has at most 64 hashes in an inclusion proof
# and 65 in a consistency proof; anything longer is malformed.
MAX_PROOF = 65
EMPTY_ROOT = hashlib.sha256(b"").digest()
_MAX_SIZE = 2**64 - 1


def sha256(data: bytes) -> bytes:
    """SHA-256 of a bytes-like object."""
    return hashlib.sha256(data).digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data) of a bytes-like object."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right) of two 32-byte hashes.

    Raises TypeError unless both are bytes, ValueError unless both are 32 bytes long.
    """
    for name, value in (("left", left), ("right", right)):
        if not isinstance(value, bytes):
            raise TypeError(f"{name} must be bytes, not {type(value).__name__}")
        if len(value) != HASH_SIZE:
            raise ValueError(f"{name} must be {HASH_SIZE} bytes, not {len(value)}")
    return _node(left, right)


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _tree_root(hashes: list[bytes]) -> bytes:
    """Merkle Tree Hash over one or more leaf hashes.

    Pairing neighbours level by level and carrying an odd last node up unchanged
    gives exactly RFC 6962's recursive split at the largest power of two.
    """
    level = hashes
    while len(level) > 1:
        carried = [level[-1]] if len(level) % 2 else []
        level = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)] + carried
    return level[0]


def _split(n: int) -> int:
    """RFC 6962's split point: the largest power of two strictly below n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def merkle_root(leaves: Iterable[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash of an iterable of bytes-like leaves (SHA-256("") if none)."""
    hashes = [leaf_hash(leaf) for leaf in leaves]
    return _tree_root(hashes) if hashes else EMPTY_ROOT


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 9162 inclusion proof (audit path) for leaves[index], leaf side first.

    Raises TypeError for a non-integer index, IndexError unless 0 <= index < len(leaves).
    """
    index = operator.index(index)
    size = len(leaves)
    if not 0 <= index < size:
        raise IndexError(f"leaf index {index} outside a tree of {size} leaves")
    hashes = [leaf_hash(leaf) for leaf in leaves]
    # PATH(m, D[n]) recurses into the half holding m and appends the other half's
    # root, so walking down from the root finds the proof root side first.
    siblings: list[tuple[int, int]] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _split(n)
        if m < k:
            siblings.append((start + k, start + n))
            n = k
        else:
            siblings.append((start, start + k))
            start, n, m = start + k, n - k, m - k
    return [_tree_root(hashes[lo:hi]) for lo, hi in reversed(siblings)]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """RFC 9162 consistency proof that the first old_size leaves are a prefix of leaves.

    Empty when old_size is 0 or len(leaves) (docs/merkle.md). Raises TypeError for a
    non-integer old_size, ValueError unless 0 <= old_size <= len(leaves).
    """
    old_size = operator.index(old_size)
    size = len(leaves)
    if not 0 <= old_size <= size:
        raise ValueError(f"old size {old_size} outside 0..{size}")
    if old_size in (0, size):
        return []
    hashes = [leaf_hash(leaf) for leaf in leaves]
    # SUBPROOF(m, D[n], b), unrolled: each step appends one subtree root after
    # whatever the deeper steps produce, so the parts come out root side first.
    parts: list[tuple[int, int]] = []
    start, n, m = 0, size, old_size
    old_is_node = True  # SUBPROOF's b: the old tree is still a left edge here
    while m != n:
        k = _split(n)
        if m <= k:
            parts.append((start + k, start + n))
            n = k
        else:
            parts.append((start, start + k))
            start, n, m = start + k, n - k, m - k
            old_is_node = False
    if not old_is_node:
        # SUBPROOF(m, D[m], false) = {MTH(D[m])}; with b true the verifier
        # already holds that hash as the old root.
        parts.append((start, start + n))
    return [_tree_root(hashes[lo:hi]) for lo, hi in reversed(parts)]


# The verifiers take exact built-in types only, as the compiled core does: a
# subclass could report a length or elements other than the ones hashed.


def _is_size(value: object) -> bool:
    return type(value) is int and 0 <= value <= _MAX_SIZE


def _is_hash(value: object) -> bool:
    return type(value) is bytes and len(value) == HASH_SIZE


def _is_proof(proof: object) -> bool:
    return (
        type(proof) in (list, tuple) and len(proof) <= MAX_PROOF and all(_is_hash(p) for p in proof)
    )


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: True iff proof shows leaf at index in the tree of size
    leaves whose root is root. False, never an exception, for any malformed input."""
    if not (_is_size(index) and _is_size(size) and index < size and _is_hash(root)):
        return False
    if not _is_proof(proof):
        return False
    try:
        r = leaf_hash(leaf)
    except (TypeError, BufferError):
        return False
    fn, sn = index, size - 1
    for p in proof:
        if sn == 0:  # proof longer than the path
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            # Skip the levels where this node is a lone right-edge node carried
            # up without a sibling.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: True iff proof shows the tree of old_size leaves with
    old_root is a prefix of the tree of new_size leaves with new_root. Sizes 0 and
    old_size == new_size follow docs/merkle.md. False, never an exception, for any
    malformed input."""
    if not (_is_size(old_size) and _is_size(new_size) and old_size <= new_size):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root) and _is_proof(proof)):
        return False
    if old_size == 0:  # every tree extends the empty one; only its root can be wrong
        return not proof and old_root == EMPTY_ROOT and (new_size > 0 or new_root == EMPTY_ROOT)
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    # When old_size is a power of two the old tree is a node of the new one and
    # the proof omits its root; the verifier starts from old_root instead.
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
