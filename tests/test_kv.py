"""Overlays read like the state they would write: prefix reads merge buffered writes
and deletions over the base in key order, and a rolled-back tx leaves no trace."""

from __future__ import annotations

import random

import pytest

from node.store.kv import MemoryKV, Overlay

KEYS = [bytes([a, b]) for a in b"abc" for b in b"xyz"]
PREFIXES = (b"", b"a", b"b", b"c", b"ay", b"q")


def _items(model: dict[bytes, bytes], prefix: bytes) -> list[tuple[bytes, bytes]]:
    return sorted((k, v) for k, v in model.items() if k.startswith(prefix))


def _write_randomly(rng: random.Random, view: Overlay, model: dict[bytes, bytes],
                    steps: int) -> None:
    for step in range(steps):
        key = rng.choice(KEYS)
        if rng.random() < 0.3:
            view.delete(key)
            model.pop(key, None)
        else:
            view.put(key, bytes([step]))
            model[key] = bytes([step])


def _assert_reads(view: Overlay, model: dict[bytes, bytes]) -> None:
    for prefix in PREFIXES:
        assert list(view.iter_prefix(prefix)) == _items(model, prefix)
    for key in KEYS:
        assert view.get(key) == model.get(key)


def test_reads_match_a_plain_dict_through_kept_and_rolled_back_txs() -> None:
    rng = random.Random(7)
    for _ in range(200):
        base, model = MemoryKV(), {}
        for key in rng.sample(KEYS, 4):
            base.put(key, b"base")
            model[key] = b"base"
        view = Overlay(base)
        for _tx in range(4):
            before = dict(model)
            view.begin()
            _write_randomly(rng, view, model, rng.randrange(0, 7))
            _assert_reads(view, model)          # a tx reads its own writes
            if rng.random() < 0.5:
                view.rollback()
                model = before
            else:
                view.keep()
            _assert_reads(view, model)
        # What the block would write: the kept txs' writes, none of the rolled-back ones.
        target = MemoryKV()
        for key in KEYS:
            if base.get(key) is not None:
                target.put(key, base.get(key))
        view.apply_to(target)
        assert list(target.iter_prefix(b"")) == _items(model, b"")


def test_a_rolled_back_tx_leaves_no_key_behind() -> None:
    base = MemoryKV()
    base.put(b"s/a", b"1")
    view = Overlay(base)
    view.put(b"s/b", b"2")
    view.begin()
    view.delete(b"s/a")
    view.put(b"s/b", b"3")
    view.put(b"s/c", b"4")
    view.put(b"s/c", b"5")
    view.rollback()
    assert view.writes == {b"s/b": b"2"}
    assert list(view.iter_prefix(b"s/")) == [(b"s/a", b"1"), (b"s/b", b"2")]


def test_one_tx_is_journalled_at_a_time() -> None:
    view = Overlay(MemoryKV())
    view.begin()
    with pytest.raises(RuntimeError, match="already journalling"):
        view.begin()
    view.keep()
    view.begin()                # a new tx may start once the last one is settled
