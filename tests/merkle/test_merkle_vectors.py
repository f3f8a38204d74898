"""Certificate Transparency's published Merkle test vectors, and the edge-case policy.

The reference tree, its roots, inclusion paths and consistency proofs are the
known-answer vectors of the CT reference implementations:

- google/certificate-transparency, cpp/merkletree/merkle_tree_test.cc
  (kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs; 1-based leaf numbers there)
- transparency-dev/merkle, proof/verify_test.go
  (leaves, roots, inclusionProofs, consistencyProofs, which adds the 6 -> 7 proof)

The corruptions checked against each vector follow the probes of those suites'
verifier tests (corruptInclusionProof / corruptConsistencyProof, VerifierCheck).
"""

from __future__ import annotations

from types import ModuleType

import pytest

EMPTY_ROOT = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

# ROOTS[n - 1] is the root of the first n leaves.
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]


def _hashes(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


# (0-based leaf index, tree size, audit path)
INCLUSION = [
    (
        0,
        8,
        _hashes(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        _hashes(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (2, 3, _hashes("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        1,
        5,
        _hashes(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (0, 1, []),
]

# (old size, new size, consistency proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        _hashes(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        _hashes(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        _hashes(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        _hashes(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]


def test_empty_tree_root(impl: ModuleType) -> None:
    assert impl.merkle_root([]) == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots(impl: ModuleType, size: int) -> None:
    assert impl.merkle_root(LEAVES[:size]) == ROOTS[size - 1]


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots_on_every_code_path(native: ModuleType, backend: str, size: int) -> None:
    assert native.merkle_root(LEAVES[:size]) == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proof_matches_reference(
    impl: ModuleType, index: int, size: int, path: list[bytes]
) -> None:
    assert impl.inclusion_proof(LEAVES[:size], index) == path


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proof_matches_reference(
    impl: ModuleType, old: int, new: int, proof: list[bytes]
) -> None:
    assert impl.consistency_proof(LEAVES[:new], old) == proof


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_verify_inclusion_reference_and_corruptions(
    impl: ModuleType, index: int, size: int, path: list[bytes]
) -> None:
    leaf, root = LEAVES[index], ROOTS[size - 1]
    assert impl.verify_inclusion(leaf, index, size, path, root)

    probes = {
        "index - 1": (leaf, index - 1, size, path, root),
        "index + 1": (leaf, index + 1, size, path, root),
        "index ^ 2": (leaf, index ^ 2, size, path, root),
        "size * 2": (leaf, index, size * 2, path, root),
        "size // 2": (leaf, index, size // 2, path, root),
        "wrong leaf": (b"WrongLeaf", index, size, path, root),
        "empty root": (leaf, index, size, path, EMPTY_ROOT),
        "random root": (leaf, index, size, path, SOME_HASH),
        "trailing garbage": (leaf, index, size, [*path, b""], root),
        "trailing root": (leaf, index, size, [*path, root], root),
        "preceding garbage": (leaf, index, size, [b"", *path], root),
        "preceding root": (leaf, index, size, [root, *path], root),
    }
    for i in range(len(path)):
        flipped = [*path]
        flipped[i] = bytes([path[i][0] ^ 8]) + path[i][1:]
        probes[f"proof[{i}] bit 3 flipped"] = (leaf, index, size, flipped, root)
        probes[f"proof[{i}] replaced"] = (
            leaf,
            index,
            size,
            [*path[:i], EMPTY_ROOT, *path[i + 1 :]],
            root,
        )
    if path:
        probes["removed component"] = (leaf, index, size, path[:-1], root)
    if len(path) > 1:
        probes["inserted component"] = (leaf, index, size, [path[0], SOME_HASH, *path[1:]], root)
    accepted = [name for name, args in probes.items() if impl.verify_inclusion(*args)]
    assert accepted == []


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_verify_inclusion_rejects_impossible_positions(
    impl: ModuleType, index: int, size: int
) -> None:
    for leaf, root in ((SOME_HASH, b""), (b"", EMPTY_ROOT), (SOME_HASH, EMPTY_ROOT)):
        assert not impl.verify_inclusion(leaf, index, size, [], root)


def test_verify_inclusion_single_leaf_tree(impl: ModuleType) -> None:
    root = impl.leaf_hash(b"data")  # a one-leaf tree's root is its leaf hash
    assert impl.verify_inclusion(b"data", 0, 1, [], root)
    assert not impl.verify_inclusion(b"other", 0, 1, [], root)
    assert not impl.verify_inclusion(b"data", 0, 1, [], b"")


@pytest.mark.parametrize(("old", "new", "proof"), [c for c in CONSISTENCY if c[2]])
def test_verify_consistency_reference_and_corruptions(
    impl: ModuleType, old: int, new: int, proof: list[bytes]
) -> None:
    old_root, new_root = ROOTS[old - 1], ROOTS[new - 1]
    assert impl.verify_consistency(old, new, old_root, new_root, proof)

    probes = {
        "old - 1": (old - 1, new, old_root, new_root, proof),
        "old + 1": (old + 1, new, old_root, new_root, proof),
        "old ^ 2": (old ^ 2, new, old_root, new_root, proof),
        "new * 2": (old, new * 2, old_root, new_root, proof),
        "new // 2": (old, new // 2, old_root, new_root, proof),
        "wrong old root": (old, new, b"WrongRoot", new_root, proof),
        "wrong new root": (old, new, old_root, b"WrongRoot", proof),
        "swapped roots": (old, new, new_root, old_root, proof),
        "empty proof": (old, new, old_root, new_root, []),
        "trailing garbage": (old, new, old_root, new_root, [*proof, b""]),
        "trailing old root": (old, new, old_root, new_root, [*proof, old_root]),
        "trailing new root": (old, new, old_root, new_root, [*proof, new_root]),
        "trailing last element": (old, new, old_root, new_root, [*proof, proof[-1]]),
        "preceding garbage": (old, new, old_root, new_root, [b"", *proof]),
        "preceding old root": (old, new, old_root, new_root, [old_root, *proof]),
        "preceding new root": (old, new, old_root, new_root, [new_root, *proof]),
        "preceding proof[0]": (old, new, old_root, new_root, [proof[0], *proof]),
        "truncated": (old, new, old_root, new_root, proof[:-1]),
    }
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = bytes([proof[i][0] ^ 16]) + proof[i][1:]
        probes[f"proof[{i}] bit 4 flipped"] = (old, new, old_root, new_root, flipped)
    accepted = [name for name, args in probes.items() if impl.verify_consistency(*args)]
    assert accepted == []


# orechain's policy for the cases RFC 9162 leaves open (docs/merkle.md). CT's
# reference verifiers accept any roots for size 0; orechain pins them to the
# empty-tree hash, the one root a tree of size 0 can have.
POLICY = [
    ((0, 0, EMPTY_ROOT, EMPTY_ROOT, []), True),
    ((0, 1, EMPTY_ROOT, ROOTS[0], []), True),
    ((0, 8, EMPTY_ROOT, ROOTS[7], []), True),
    ((1, 1, ROOTS[0], ROOTS[0], []), True),
    ((8, 8, ROOTS[7], ROOTS[7], []), True),
    ((0, 0, EMPTY_ROOT, SOME_HASH, []), False),
    ((0, 0, SOME_HASH, SOME_HASH, []), False),
    ((0, 1, SOME_HASH, ROOTS[0], []), False),
    ((0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]), False),
    ((0, 1, EMPTY_ROOT, ROOTS[0], [EMPTY_ROOT]), False),
    ((1, 1, ROOTS[0], ROOTS[0], [EMPTY_ROOT]), False),
    ((1, 1, EMPTY_ROOT, ROOTS[0], []), False),
    ((1, 0, ROOTS[0], EMPTY_ROOT, []), False),
    ((2, 1, ROOTS[1], ROOTS[0], []), False),
    ((1, 2, ROOTS[0], ROOTS[1], []), False),
]


@pytest.mark.parametrize(("args", "expected"), POLICY)
def test_verify_consistency_edge_policy(
    impl: ModuleType, args: tuple[object, ...], expected: bool
) -> None:
    assert impl.verify_consistency(*args) is expected


def test_consistency_proof_edge_policy(impl: ModuleType) -> None:
    assert impl.consistency_proof(LEAVES, 0) == []
    assert impl.consistency_proof(LEAVES, 8) == []
    assert impl.consistency_proof([], 0) == []
    with pytest.raises(ValueError):
        impl.consistency_proof(LEAVES, 9)
    with pytest.raises(ValueError):
        impl.consistency_proof(LEAVES, -1)
    with pytest.raises(TypeError):
        impl.consistency_proof(LEAVES, 2.0)


def test_inclusion_proof_rejects_bad_index(impl: ModuleType) -> None:
    for index in (-1, 8, 2**64):
        with pytest.raises(IndexError):
            impl.inclusion_proof(LEAVES, index)
    with pytest.raises(IndexError):
        impl.inclusion_proof([], 0)
    with pytest.raises(TypeError):
        impl.inclusion_proof(LEAVES, 1.0)
