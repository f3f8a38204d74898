"""SHA-256 against FIPS 180-4 / NIST known answers and hashlib, on every code path.

Known answers: NIST's SHA-256 examples for FIPS 180-4 (CSRC "Examples with
Intermediate Values": the one-block "abc" and the 448-bit two-block message),
FIPS 180-2's long message of one million 'a', the 896-bit message of the
SHA-384/512 examples, and the empty message.
"""

from __future__ import annotations

import hashlib
import random
from types import ModuleType

import pytest

FIPS_VECTORS = [
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ),
    (
        b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
        b"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ),
    (b"a" * 1_000_000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
]
VECTOR_IDS = ["empty", "abc", "448-bit", "896-bit", "million-a"]

# Every length around the padding boundaries (55/56 bytes, 64-byte blocks), then
# sizes that span many blocks and cross the C code's GIL-release threshold.
LENGTHS = [*range(0, 200), 1000, 4095, 4096, 4097, 65_535, 65_536, 1 << 20]


@pytest.mark.parametrize(("message", "digest"), FIPS_VECTORS, ids=VECTOR_IDS)
def test_fips_vectors(impl: ModuleType, message: bytes, digest: str) -> None:
    assert impl.sha256(message).hex() == digest


@pytest.mark.parametrize(("message", "digest"), FIPS_VECTORS, ids=VECTOR_IDS)
def test_fips_vectors_on_every_code_path(
    native: ModuleType, backend: str, message: bytes, digest: str
) -> None:
    assert native.sha256(message).hex() == digest
    assert native._sha256_portable(message).hex() == digest


def test_matches_hashlib_at_every_boundary(impl: ModuleType) -> None:
    rng = random.Random(180_4)
    for length in LENGTHS:
        message = rng.randbytes(length)
        assert impl.sha256(message) == hashlib.sha256(message).digest(), length


def test_portable_path_matches_hashlib(native: ModuleType) -> None:
    rng = random.Random(2)
    for length in LENGTHS:
        message = rng.randbytes(length)
        assert native._sha256_portable(message) == hashlib.sha256(message).digest(), length


def test_accepts_bytes_like(impl: ModuleType) -> None:
    expected = hashlib.sha256(b"orechain").digest()
    assert impl.sha256(bytearray(b"orechain")) == expected
    assert impl.sha256(memoryview(b"xorechainx")[1:-1]) == expected


@pytest.mark.parametrize("value", ["orechain", 7, None, [1, 2]])
def test_rejects_non_bytes(impl: ModuleType, value: object) -> None:
    with pytest.raises(TypeError):
        impl.sha256(value)


def test_rejects_non_contiguous_buffers(impl: ModuleType) -> None:
    with pytest.raises(BufferError):
        impl.sha256(memoryview(b"abcdef")[::2])


def test_leaf_and_node_hashes_are_domain_separated(impl: ModuleType) -> None:
    left, right = hashlib.sha256(b"l").digest(), hashlib.sha256(b"r").digest()
    for data in (b"", b"x", bytes(54), bytes(55), bytes(200)):
        assert impl.leaf_hash(data) == hashlib.sha256(b"\x00" + data).digest()
    assert impl.node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    # A node and a leaf over the same 64 bytes must not collide.
    assert impl.node_hash(left, right) != impl.leaf_hash(left + right)


@pytest.mark.parametrize(
    ("left", "right", "error"),
    [
        (b"x" * 31, b"x" * 32, ValueError),
        (b"x" * 32, b"x" * 33, ValueError),
        (bytearray(32), b"x" * 32, TypeError),
        (b"x" * 32, "x" * 32, TypeError),
        (None, b"x" * 32, TypeError),
    ],
)
def test_node_hash_takes_only_32_byte_hashes(
    impl: ModuleType, left: object, right: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        impl.node_hash(left, right)
