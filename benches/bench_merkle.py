"""Benchmarks for node.merkle: the compiled core, the pure-Python twin, and a plain hashlib loop.

Each group times the three side by side in one run, so the ratios in the table
compare like with like on the same machine state:

    python setup.py build_ext --inplace
    python -m pytest benches/bench_merkle.py -p no:cacheprovider

test_sha_ni_ceiling also prints the CPU's single-stream SHA-256 speed measured by
`openssl speed -evp sha256`, in nanoseconds per 64-byte compression. Results and
their reading are in docs/merkle.md.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import random
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from types import ModuleType, SimpleNamespace

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from node.merkle import _py


def _hashlib_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaf hashes first, one hashlib call per hash."""
    levels = [[hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]]
    while len(levels[-1]) > 1:
        level = levels[-1]
        parents = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        levels.append(parents + level[len(level) - len(level) % 2 :])
    return levels


def _hashlib_inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    proof = []
    for level in _hashlib_levels(leaves)[:-1]:
        if index ^ 1 < len(level):
            proof.append(level[index ^ 1])
        index //= 2
    return proof


def _hashlib_verify_inclusion(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> bool:
    r = hashlib.sha256(b"\x00" + leaf).digest()
    fn, sn = index, size - 1
    for p in proof:
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


HASHLIB = SimpleNamespace(
    sha256=lambda data: hashlib.sha256(data).digest(),
    merkle_root=lambda leaves: _hashlib_levels(leaves)[-1][0],
    inclusion_proof=_hashlib_inclusion_proof,
    verify_inclusion=_hashlib_verify_inclusion,
)


@pytest.fixture(scope="module", params=["native", "python", "hashlib"])
def impl(request: pytest.FixtureRequest) -> ModuleType | SimpleNamespace:
    if request.param == "hashlib":
        return HASHLIB
    if request.param == "python":
        return _py
    try:
        return importlib.import_module("node._native")
    except ImportError as exc:
        pytest.skip(f"node._native is not built ({exc}); run: python setup.py build_ext --inplace")


@functools.cache
def leaves(count: int) -> list[bytes]:
    """count random 32-byte leaves (tx ids, say), the same in every run."""
    rng = random.Random(count)
    return [rng.randbytes(32) for _ in range(count)]


def _run(
    benchmark: BenchmarkFixture,
    impl: ModuleType | SimpleNamespace,
    function: Callable[..., object],
    *args: object,
    rounds: int = 0,
) -> object:
    """Times function(*args); slow calls get a fixed, small number of rounds."""
    benchmark.extra_info["implementation"] = getattr(impl, "IMPLEMENTATION", "hashlib")
    if rounds:
        return benchmark.pedantic(function, args=args, rounds=rounds, iterations=1)
    return benchmark(function, *args)


@pytest.mark.parametrize("size", [64, 1024, 1 << 20], ids=["64B", "1KiB", "1MiB"])
def test_sha256(benchmark: BenchmarkFixture, impl: ModuleType, size: int) -> None:
    benchmark.group = f"sha256 {size} bytes"
    data = random.Random(size).randbytes(size)
    assert _run(benchmark, impl, impl.sha256, data) == hashlib.sha256(data).digest()


@pytest.mark.parametrize("exponent", [10, 16, 20])
def test_merkle_root(benchmark: BenchmarkFixture, impl: ModuleType, exponent: int) -> None:
    benchmark.group = f"merkle_root 2^{exponent} leaves"
    tree = leaves(1 << exponent)
    rounds = 3 if exponent == 20 else 0
    assert len(_run(benchmark, impl, impl.merkle_root, tree, rounds=rounds)) == 32


def test_inclusion_proof(benchmark: BenchmarkFixture, impl: ModuleType) -> None:
    benchmark.group = "inclusion_proof in 2^16 leaves"
    tree = leaves(1 << 16)
    proof = _run(benchmark, impl, impl.inclusion_proof, tree, 12_345, rounds=5)
    assert proof == _py.inclusion_proof(tree, 12_345)


@functools.cache
def _proof_case(exponent: int) -> tuple[bytes, int, int, list[bytes], bytes]:
    tree = leaves(1 << exponent)
    index = len(tree) - 12_345
    return tree[index], index, len(tree), _py.inclusion_proof(tree, index), _py.merkle_root(tree)


def test_verify_inclusion(benchmark: BenchmarkFixture, impl: ModuleType) -> None:
    benchmark.group = "verify_inclusion in 2^20 leaves"
    assert _run(benchmark, impl, impl.verify_inclusion, *_proof_case(20)) is True


@functools.cache
def _consistency_case(exponent: int) -> tuple[int, int, bytes, bytes, list[bytes]]:
    tree = leaves(1 << exponent)
    old = len(tree) - 12_345
    old_root, new_root = _py.merkle_root(tree[:old]), _py.merkle_root(tree)
    return old, len(tree), old_root, new_root, _py.consistency_proof(tree, old)


@pytest.mark.parametrize("implementation", ["native", "python"])
def test_verify_consistency(benchmark: BenchmarkFixture, implementation: str) -> None:
    benchmark.group = "verify_consistency in 2^20 leaves"
    impl = _py if implementation == "python" else pytest.importorskip("node._native")
    assert _run(benchmark, impl, impl.verify_consistency, *_consistency_case(20)) is True


def _openssl_bytes_per_second(block: int) -> float:
    out = subprocess.run(
        ["openssl", "speed", "-seconds", "2", "-evp", "sha256", "-bytes", str(block)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # The last line reads "sha256  <thousands of bytes per second>k".
    return float(re.findall(r"([\d.]+)k\s*$", out.strip())[-1]) * 1000


def test_sha_ni_ceiling(capsys: pytest.CaptureFixture[str]) -> None:
    """The CPU's single-stream SHA-256 speed, as OpenSSL's hand-tuned code reaches it."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    per_compression = 64 / _openssl_bytes_per_second(16_384) * 1e9
    per_message = 64 / _openssl_bytes_per_second(64) * 1e9
    compressions = 3 * (1 << 20) - 1  # one per 33-byte leaf, two per 65-byte node
    with capsys.disabled():
        print(
            f"\nopenssl sha256: {per_compression:.1f} ns per compression (16 KiB blocks), "
            f"{per_message:.1f} ns per 64-byte message (two compressions plus call overhead); "
            f"single-stream floor for merkle_root of 2^20 leaves: "
            f"{compressions * per_compression / 1e6:.1f} ms"
        )
    assert per_compression > 0
