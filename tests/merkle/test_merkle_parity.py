"""The compiled core and the pure-Python twin agree, and both match RFC 9162's definitions.

Small trees are checked exhaustively against a third model written straight from
the recursive definitions of RFC 9162 sections 2.1.1, 2.1.3.1 and 2.1.4.1; larger
ones (up to 5000 leaves, and across the native core's 4096-leaf batches) compare
the two implementations, on every SHA-256 code path this CPU has.
"""

from __future__ import annotations

import hashlib
import random
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]), RFC 9162 section 2.1.1."""
    if not d:
        return _h(b"")
    if len(d) == 1:
        return _h(b"\x00" + d[0])
    k = _k(len(d))
    return _h(b"\x01" + rfc_mth(d[:k]) + rfc_mth(d[k:]))


def rfc_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]), RFC 9162 section 2.1.3.1."""
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*rfc_path(m, d[:k]), rfc_mth(d[k:])]
    return [*rfc_path(m - k, d[k:]), rfc_mth(d[:k])]


def rfc_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), RFC 9162 section 2.1.4.1."""
    if m == len(d):
        return [] if b else [rfc_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*rfc_subproof(m, d[:k], b), rfc_mth(d[k:])]
    return [*rfc_subproof(m - k, d[k:], False), rfc_mth(d[:k])]


def make_leaves(count: int, seed: int, max_len: int = 80) -> list[bytes]:
    """Leaves of mixed lengths: most fit one SHA-256 block with the prefix, some don't."""
    rng = random.Random(seed)
    return [
        rng.randbytes(rng.choice((0, 1, 32, 32, 32, 54, 55, 64, max_len))) for _ in range(count)
    ]


@pytest.mark.parametrize("size", range(0, 40))
def test_matches_rfc_definitions(impl: ModuleType, size: int) -> None:
    leaves = make_leaves(size, seed=size)
    root = rfc_mth(leaves)
    assert impl.merkle_root(leaves) == root
    for m in range(size):
        path = impl.inclusion_proof(leaves, m)
        assert path == rfc_path(m, leaves)
        assert impl.verify_inclusion(leaves[m], m, size, path, root)
    for m in range(1, size + 1):
        proof = impl.consistency_proof(leaves, m)
        assert proof == rfc_subproof(m, leaves, True)
        assert impl.verify_consistency(m, size, rfc_mth(leaves[:m]), root, proof)


# Sizes around every batch width of the native core: AVX-512 runs 16 messages at
# once and falls back below 8, SHA-NI pairs them, batches hold 64 nodes and
# 4096 leaves, and the root builder folds whole batches as perfect subtrees.
BOUNDARY_SIZES = [
    *range(1, 70),
    *(n + d for n in (128, 256, 1024, 4096, 8192) for d in (-1, 0, 1)),
    5000,
    12289,
]


def test_roots_agree_on_every_code_path(native: ModuleType, twin: ModuleType, backend: str) -> None:
    leaves = make_leaves(max(BOUNDARY_SIZES), seed=7)
    for size in BOUNDARY_SIZES:
        assert native.merkle_root(leaves[:size]) == twin.merkle_root(leaves[:size]), size


def test_proofs_agree_on_every_code_path(
    native: ModuleType, twin: ModuleType, backend: str
) -> None:
    leaves = make_leaves(5000, seed=8)
    rng = random.Random(9)
    for size in (s for s in BOUNDARY_SIZES if s <= 5000):
        tree = leaves[:size]
        for index in {0, size - 1, rng.randrange(size)}:
            assert native.inclusion_proof(tree, index) == twin.inclusion_proof(tree, index)
        for old in {1, size, rng.randint(1, size)}:
            assert native.consistency_proof(tree, old) == twin.consistency_proof(tree, old)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(0, 5000), seed=st.integers(0, 2**32), data=st.data())
def test_random_trees_agree(
    native: ModuleType, twin: ModuleType, size: int, seed: int, data: st.DataObject
) -> None:
    leaves = make_leaves(size, seed)
    root = twin.merkle_root(leaves)
    assert native.merkle_root(leaves) == root
    if size == 0:
        return
    index = data.draw(st.integers(0, size - 1), label="index")
    path = twin.inclusion_proof(leaves, index)
    assert native.inclusion_proof(leaves, index) == path
    assert native.verify_inclusion(leaves[index], index, size, path, root)
    assert twin.verify_inclusion(leaves[index], index, size, path, root)

    old = data.draw(st.integers(0, size), label="old_size")
    proof = twin.consistency_proof(leaves, old)
    assert native.consistency_proof(leaves, old) == proof
    old_root = twin.merkle_root(leaves[:old])
    assert native.verify_consistency(old, size, old_root, root, proof)
    assert twin.verify_consistency(old, size, old_root, root, proof)


def test_bytes_like_leaves_hash_as_their_bytes(impl: ModuleType) -> None:
    leaves = make_leaves(300, seed=3)
    root = impl.merkle_root(leaves)
    mixed = [
        leaf if i % 3 == 0 else bytearray(leaf) if i % 3 == 1 else memoryview(leaf)
        for i, leaf in enumerate(leaves)
    ]
    assert impl.merkle_root(mixed) == root
    assert impl.merkle_root(iter(leaves)) == root
    assert impl.merkle_root(tuple(leaves)) == root
    assert impl.inclusion_proof(mixed, 7) == impl.inclusion_proof(leaves, 7)


def test_rejects_leaves_that_are_not_bytes(impl: ModuleType) -> None:
    for bad in (["text"], [b"ok", 5], [None], [memoryview(b"abcdef")[::2]]):
        with pytest.raises((TypeError, BufferError)):
            impl.merkle_root(bad)
        with pytest.raises((TypeError, BufferError)):
            impl.inclusion_proof(bad, 0)


def test_concurrent_roots_are_correct(native: ModuleType, twin: ModuleType) -> None:
    # The native core hashes big trees without the GIL; threads must not mix state.
    trees = [make_leaves(3000 + 517 * i, seed=100 + i, max_len=40) for i in range(6)]
    expected = [twin.merkle_root(tree) for tree in trees]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(native.merkle_root, trees * 2)) == expected * 2
