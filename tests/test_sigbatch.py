"""Signature checks asked for in one turn of the event loop are verified together, on
a worker thread, and every caller gets its own verdicts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from node.crypto import PrivateKey, SignedItem, VerifiedCache
from node.daemon.sigbatch import SignatureBatcher


class _RecordingCache(VerifiedCache):
    """A real cache that also records each batch it is given and the thread it ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.threads: set[str] = set()

    def verify_many(self, items: Sequence[SignedItem],
                    item_ids: Sequence[bytes | None] | None = None) -> list[bool]:
        self.batches.append(len(items))
        self.threads.add(threading.current_thread().name)
        return super().verify_many(items, item_ids)


def _signed(n: int) -> list[SignedItem]:
    key = PrivateKey.generate()
    return [(key.public_key, m, key.sign(m)) for m in (f"event {i}".encode() for i in range(n))]


def test_one_turn_is_one_batch_off_the_event_loop() -> None:
    cache = _RecordingCache()
    good = _signed(5)
    forged = [(good[0][0], b"forged", good[0][2])]

    async def main() -> list[list[bool]]:
        batcher = SignatureBatcher(cache)
        return list(await asyncio.gather(batcher.verify_many(good[:2]),
                                         batcher.verify_many(forged),
                                         batcher.verify_many(good[2:])))

    assert asyncio.run(main()) == [[True, True], [False], [True, True, True]]
    assert cache.batches == [6]
    assert threading.main_thread().name not in cache.threads
    assert cache.verified == 6


def test_ids_given_with_the_items_key_the_cache() -> None:
    """What the ledger does: the batch check keyed by tx ids, then check_tx by id."""
    cache = _RecordingCache()
    items = _signed(3)
    ids = [bytes([i]) * 32 for i in range(3)]

    async def main() -> list[list[bool]]:
        batcher = SignatureBatcher(cache)
        return list(await asyncio.gather(batcher.verify_many(items[:2], ids[:2]),
                                         batcher.verify_many(items[2:])))

    assert asyncio.run(main()) == [[True, True], [True]]
    assert [cache.verify(*item, item_id) for item, item_id in zip(items[:2], ids[:2],
                                                                    strict=True)] == [True] * 2
    assert cache.verify(*items[2])
    assert (cache.verified, cache.hits) == (3, 3)


def test_later_turns_are_later_batches_and_cached_ones_are_not_checked_again() -> None:
    cache = _RecordingCache()
    items = _signed(3)

    async def main() -> None:
        batcher = SignatureBatcher(cache)
        assert await batcher.verify_many(items) == [True] * 3
        assert await batcher.verify_many(items[:1]) == [True]
        assert await batcher.verify_many([]) == []

    asyncio.run(main())
    assert cache.batches == [3, 1]
    assert (cache.verified, cache.hits) == (3, 1)


def test_a_caller_that_gives_up_does_not_stop_the_others() -> None:
    cache = _RecordingCache()
    items = _signed(2)

    async def main() -> list[bool]:
        batcher = SignatureBatcher(cache)
        abandoned = asyncio.ensure_future(batcher.verify_many(items[:1]))
        kept = asyncio.ensure_future(batcher.verify_many(items[1:]))
        await asyncio.sleep(0)            # both are queued in this turn
        abandoned.cancel()
        return await kept

    assert asyncio.run(main()) == [True]
