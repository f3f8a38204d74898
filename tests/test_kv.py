"""Overlays read like the state they would write: prefix reads merge buffered writes
and deletions over the base at every nesting level, in key order."""

from __future__ import annotations

import random

from node.store.kv import MemoryKV, Overlay

KEYS = [bytes([a, b]) for a in b"abc" for b in b"xyz"]


def _items(model: dict[bytes, bytes], prefix: bytes) -> list[tuple[bytes, bytes]]:
    return sorted((k, v) for k, v in model.items() if k.startswith(prefix))


def test_prefix_reads_match_a_plain_dict_through_nested_overlays() -> None:
    rng = random.Random(7)
    for _ in range(200):
        base, model = MemoryKV(), {}
        for key in rng.sample(KEYS, 4):
            base.put(key, b"base")
            model[key] = b"base"
        levels = [Overlay(base)]
        levels.append(levels[0].child())
        for step in range(6):
            view, key = rng.choice(levels), rng.choice(KEYS)
            if rng.random() < 0.3:
                view.delete(key)
            else:
                view.put(key, bytes([step]))
        # The model: the inner level's writes over the outer's over the base.
        for level in levels:
            for key, value in level.writes.items():
                if value is None:
                    model.pop(key, None)
                else:
                    model[key] = value
        for prefix in (b"", b"a", b"b", b"c", b"ay", b"q"):
            assert list(levels[1].iter_prefix(prefix)) == _items(model, prefix)
