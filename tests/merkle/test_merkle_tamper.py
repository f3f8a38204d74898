"""Verifiers reject every altered proof and return False, never raise, on malformed input."""

from __future__ import annotations

import hashlib
import random
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 32, 33, 64, 100]


def _leaves(size: int) -> list[bytes]:
    return [b"lot-%d" % i for i in range(size)]


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def sibling_sides(index: int, size: int) -> list[str]:
    """Which side each audit-path hash sits on, leaf side first (RFC 9162 PATH's shape)."""
    if size == 1:
        return []
    k = _split(size)
    if index < k:
        return [*sibling_sides(index, k), "right"]
    return [*sibling_sides(index - k, size - k), "left"]


def tampered(proof: list[bytes], extra: bytes, rng: random.Random) -> dict[str, list[bytes]]:
    """Every way of altering a proof that must make it fail."""
    variants: dict[str, list[bytes]] = {
        "appended hash": [*proof, extra],
        "appended empty": [*proof, b""],
        "prepended hash": [extra, *proof],
    }
    for i, element in enumerate(proof):
        bit = rng.randrange(256)
        flipped = bytearray(element)
        flipped[bit // 8] ^= 1 << (bit % 8)
        variants[f"bit {bit} of [{i}] flipped"] = [*proof[:i], bytes(flipped), *proof[i + 1 :]]
        variants[f"[{i}] removed"] = proof[:i] + proof[i + 1 :]
        variants[f"[{i}] duplicated"] = [*proof[: i + 1], element, *proof[i + 1 :]]
        variants[f"[{i}] zero-padded"] = [*proof[:i], element + b"\x00", *proof[i + 1 :]]
        variants[f"[{i}] truncated"] = [*proof[:i], element[:-1], *proof[i + 1 :]]
    for i in range(len(proof) - 1):
        if proof[i] != proof[i + 1]:
            variants[f"[{i}] and [{i + 1}] swapped"] = [
                *proof[:i],
                proof[i + 1],
                proof[i],
                *proof[i + 2 :],
            ]
    if len(proof) > 2:
        variants["reversed"] = proof[::-1]
    return variants


@pytest.mark.parametrize("size", SIZES)
def test_inclusion_tampering_is_rejected(impl: ModuleType, size: int) -> None:
    rng = random.Random(size)
    leaves = _leaves(size)
    root = impl.merkle_root(leaves)
    other_root = impl.merkle_root([*leaves, b"one more"])
    for index in range(size):
        leaf, proof = leaves[index], impl.inclusion_proof(leaves, index)
        assert impl.verify_inclusion(leaf, index, size, proof, root)

        for name, bad in tampered(proof, other_root, rng).items():
            assert not impl.verify_inclusion(leaf, index, size, bad, root), name
        assert not impl.verify_inclusion(leaf + b"x", index, size, proof, root)
        assert not impl.verify_inclusion(leaf, index, size, proof, other_root)
        for other in {0, index - 1, index + 1, index ^ 2, size - 1} - {index}:
            if 0 <= other < size:
                assert not impl.verify_inclusion(leaf, other, size, proof, root), other
        # The size only shapes the path: another size verifies exactly when its
        # path has the same shape, and is rejected otherwise.
        for other_size in range(index + 1, 2 * size + 2):
            same_shape = sibling_sides(index, other_size) == sibling_sides(index, size)
            assert impl.verify_inclusion(leaf, index, other_size, proof, root) is same_shape


@pytest.mark.parametrize("size", [s for s in SIZES if s > 1])
def test_consistency_tampering_is_rejected(impl: ModuleType, size: int) -> None:
    rng = random.Random(size)
    leaves = _leaves(size)
    new_root = impl.merkle_root(leaves)
    for old in range(1, size):
        old_root = impl.merkle_root(leaves[:old])
        proof = impl.consistency_proof(leaves, old)
        assert impl.verify_consistency(old, size, old_root, new_root, proof)

        for name, bad in tampered(proof, old_root, rng).items():
            assert not impl.verify_consistency(old, size, old_root, new_root, bad), name
        assert not impl.verify_consistency(old, size, old_root, new_root, [])
        assert not impl.verify_consistency(old, size, new_root, old_root, proof)
        assert not impl.verify_consistency(size, old, new_root, old_root, proof)
        assert not impl.verify_consistency(
            old, size, hashlib.sha256(old_root).digest(), new_root, proof
        )
        assert not impl.verify_consistency(
            old, size, old_root, hashlib.sha256(new_root).digest(), proof
        )


def test_verdicts_on_altered_sizes_agree(native: ModuleType, twin: ModuleType) -> None:
    leaves = _leaves(40)
    for new in range(2, 41):
        new_root = twin.merkle_root(leaves[:new])
        for old in range(1, new):
            old_root = twin.merkle_root(leaves[:old])
            proof = twin.consistency_proof(leaves[:new], old)
            for args in (
                (old - 1, new),
                (old + 1, new),
                (old ^ 2, new),
                (old, new + 1),
                (old, new - 1),
                (old, new * 2),
                (old, new // 2),
            ):
                verdicts = {
                    impl.verify_consistency(*args, old_root, new_root, proof)
                    for impl in (native, twin)
                }
                assert len(verdicts) == 1, (old, new, args)


class LyingList(list):
    """A proof whose reported length is not its real one."""

    def __len__(self) -> int:
        return 64


class Hash(bytes):
    pass


GOOD_LEAF = b"lot-3"
GOOD_TREE = _leaves(9)


def _good(impl: ModuleType) -> tuple[list[bytes], bytes]:
    return impl.inclusion_proof(GOOD_TREE, 3), impl.merkle_root(GOOD_TREE)


MALFORMED_INCLUSION = {
    "index negative": lambda p, r: (GOOD_LEAF, -1, 9, p, r),
    "index = size": lambda p, r: (GOOD_LEAF, 9, 9, p, r),
    "index float": lambda p, r: (GOOD_LEAF, 3.0, 9, p, r),
    "index str": lambda p, r: (GOOD_LEAF, "3", 9, p, r),
    "index None": lambda p, r: (GOOD_LEAF, None, 9, p, r),
    "size float": lambda p, r: (GOOD_LEAF, 3, 9.0, p, r),
    "size 2**64": lambda p, r: (GOOD_LEAF, 3, 2**64, p, r),
    "size huge": lambda p, r: (GOOD_LEAF, 3, 10**40, p, r),
    "leaf str": lambda p, r: ("lot-3", 3, 9, p, r),
    "leaf None": lambda p, r: (None, 3, 9, p, r),
    "leaf int": lambda p, r: (3, 3, 9, p, r),
    "leaf strided view": lambda p, r: (memoryview(b"llott--33")[::2], 3, 9, p, r),
    "root short": lambda p, r: (GOOD_LEAF, 3, 9, p, r[:31]),
    "root long": lambda p, r: (GOOD_LEAF, 3, 9, p, r + b"\x00"),
    "root str": lambda p, r: (GOOD_LEAF, 3, 9, p, r.hex()),
    "root bytearray": lambda p, r: (GOOD_LEAF, 3, 9, p, bytearray(r)),
    "root None": lambda p, r: (GOOD_LEAF, 3, 9, p, None),
    "proof None": lambda p, r: (GOOD_LEAF, 3, 9, None, r),
    "proof bytes": lambda p, r: (GOOD_LEAF, 3, 9, b"".join(p), r),
    "proof str": lambda p, r: (GOOD_LEAF, 3, 9, "".join(x.hex() for x in p), r),
    "proof generator": lambda p, r: (GOOD_LEAF, 3, 9, (x for x in p), r),
    "proof dict": lambda p, r: (GOOD_LEAF, 3, 9, dict.fromkeys(p), r),
    "proof of bytearrays": lambda p, r: (GOOD_LEAF, 3, 9, [bytearray(x) for x in p], r),
    "proof of hex": lambda p, r: (GOOD_LEAF, 3, 9, [x.hex() for x in p], r),
    "proof nested": lambda p, r: (GOOD_LEAF, 3, 9, [p], r),
    "proof with None": lambda p, r: (GOOD_LEAF, 3, 9, [*p[:-1], None], r),
    "proof too long": lambda p, r: (GOOD_LEAF, 3, 9, p * 40, r),
    "proof list subclass": lambda p, r: (GOOD_LEAF, 3, 9, LyingList(p), r),
    "proof of bytes subclass": lambda p, r: (GOOD_LEAF, 3, 9, [Hash(x) for x in p], r),
    "root bytes subclass": lambda p, r: (GOOD_LEAF, 3, 9, p, Hash(r)),
}


@pytest.mark.parametrize("case", MALFORMED_INCLUSION)
def test_malformed_inclusion_input_is_false(impl: ModuleType, case: str) -> None:
    proof, root = _good(impl)
    assert impl.verify_inclusion(GOOD_LEAF, 3, 9, proof, root)  # the unaltered original
    assert impl.verify_inclusion(*MALFORMED_INCLUSION[case](proof, root)) is False


def test_sizes_must_be_plain_ints(impl: ModuleType) -> None:
    proof, root = impl.inclusion_proof(GOOD_TREE, 1), impl.merkle_root(GOOD_TREE)
    assert impl.verify_inclusion(b"lot-1", 1, 9, proof, root)
    assert impl.verify_inclusion(b"lot-1", True, 9, proof, root) is False


@pytest.mark.parametrize(
    "args",
    [
        (-1, 9),
        (3.0, 9),
        (3, 9.0),
        ("3", 9),
        (None, 9),
        (3, None),
        (3, 2**64),
        (2**64, 2**64 + 1),
    ],
)
def test_malformed_consistency_sizes_are_false(
    impl: ModuleType, args: tuple[object, object]
) -> None:
    proof = impl.consistency_proof(GOOD_TREE, 3)
    old_root, new_root = impl.merkle_root(GOOD_TREE[:3]), impl.merkle_root(GOOD_TREE)
    assert impl.verify_consistency(3, 9, old_root, new_root, proof)
    assert impl.verify_consistency(*args, old_root, new_root, proof) is False


def test_malformed_consistency_roots_and_proofs_are_false(impl: ModuleType) -> None:
    proof = impl.consistency_proof(GOOD_TREE, 3)
    old_root, new_root = impl.merkle_root(GOOD_TREE[:3]), impl.merkle_root(GOOD_TREE)
    for bad_root in (old_root[:31], old_root + b"\x00", bytearray(old_root), old_root.hex(), None):
        assert impl.verify_consistency(3, 9, bad_root, new_root, proof) is False
        assert impl.verify_consistency(3, 9, old_root, bad_root, proof) is False
    for bad_proof in (
        None,
        b"".join(proof),
        iter(proof),
        [bytearray(x) for x in proof],
        [proof],
        proof * 30,
    ):
        assert impl.verify_consistency(3, 9, old_root, new_root, bad_proof) is False


anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=40)
    | st.just(b"\x00" * 32),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner),
    max_leaves=8,
)


@settings(max_examples=100, deadline=None)
@given(leaf=anything, index=anything, size=anything, proof=anything, root=anything)
def test_inclusion_verifier_never_raises(
    native: ModuleType,
    twin: ModuleType,
    leaf: object,
    index: object,
    size: object,
    proof: object,
    root: object,
) -> None:
    verdicts = {impl.verify_inclusion(leaf, index, size, proof, root) for impl in (native, twin)}
    assert verdicts == {False}


@settings(max_examples=100, deadline=None)
@given(old=anything, new=anything, old_root=anything, new_root=anything, proof=anything)
def test_consistency_verifier_never_raises(
    native: ModuleType,
    twin: ModuleType,
    old: object,
    new: object,
    old_root: object,
    new_root: object,
    proof: object,
) -> None:
    verdicts = {
        impl.verify_consistency(old, new, old_root, new_root, proof) for impl in (native, twin)
    }
    assert len(verdicts) == 1
    assert verdicts <= {True, False}
