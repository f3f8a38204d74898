"""Batch signature checks: the same verdicts as one-by-one checks, in order, from the
compiled loop (node._ed25519, without the GIL) and from the pure-Python path."""

from __future__ import annotations

import importlib
import threading

import pytest

from node.crypto import PrivateKey, VerifiedCache, batch, verify
from tests.helpers import native_module


def _items() -> list[tuple[bytes, bytes, bytes]]:
    key, other = PrivateKey.generate(), PrivateKey.generate()
    good = [(key.public_key, m, key.sign(m)) for m in (b"", b"lot", bytes(5000))]
    sig = key.sign(b"lot")
    flipped = bytes([sig[0] ^ 1]) + sig[1:]
    bad = [
        (key.public_key, b"lot", flipped),                 # damaged signature
        (key.public_key, b"lou", sig),                     # damaged message
        (other.public_key, b"lot", sig),                   # someone else's key
        (key.public_key[:31], b"lot", sig),                # short key
        (key.public_key, b"lot", sig + b"\0"),             # long signature
        (bytes(32), b"lot", bytes(64)),                    # all zero
    ]
    # Interleaved, so a verdict in the wrong place would show.
    return [item for pair in zip(good + good, bad, strict=True) for item in pair]


@pytest.fixture(params=["native", "python"])
def verify_many(request, monkeypatch):
    if request.param == "python":
        monkeypatch.setenv("ORECHAIN_PURE_PYTHON", "1")
    else:
        monkeypatch.delenv("ORECHAIN_PURE_PYTHON", raising=False)
    if request.param == "native":
        native_module("_ed25519")
    module = importlib.reload(batch)
    assert module.native() == (request.param == "native")
    yield module.verify_many
    monkeypatch.undo()
    importlib.reload(batch)


def test_batch_verdicts_match_single_checks(verify_many):
    items = _items()
    assert verify_many(items) == [verify(*item) for item in items]
    assert verify_many(items) == [True, False] * 6


def test_batch_refuses_non_bytes_without_raising(verify_many):
    key = PrivateKey.generate()
    sig = key.sign(b"lot")
    items = [(key.public_key, b"lot", sig), (key.public_key, "lot", sig),
             (bytearray(key.public_key), b"lot", sig), (key.public_key, b"lot", sig)]
    assert verify_many(items) == [True, False, False, True]
    assert verify_many([]) == []


def test_threads_share_one_cache():
    """verify_many from several threads: every verdict right, each good signature
    checked at most once per thread that raced for it, never cached when bad."""
    items = _items()
    cache = VerifiedCache()
    results: list[list[bool]] = []

    def run() -> None:
        for _ in range(20):
            results.append(cache.verify_many(items))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r == [True, False] * 6 for r in results)
    good = 6
    assert cache.hits >= (80 - 4) * good
    assert cache.hits + cache.verified == 80 * len(items)
