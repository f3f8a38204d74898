"""Signature checks gathered per turn of the event loop and run on a worker thread.

Every submitted or relayed tx is verified once per node (node.crypto.VerifiedCache).
The checks asked for in one turn of the event loop (an RPC batch of submissions, a
gossiped batch of txs) go to node.crypto.verify_many together, on a worker thread:
one call into the compiled loop, which runs without the GIL, so the event loop keeps
serving votes, proposals and RPC calls meanwhile. Callers then make their decisions
as before (Ledger.check_tx), finding the signatures already verified.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from node.crypto import SignedItem, VerifiedCache

# Items, their ids (see VerifiedCache.verify_many), and who waits for the verdicts.
_Group = tuple[Sequence[SignedItem], Sequence[bytes | None], "asyncio.Future[list[bool]]"]


class SignatureBatcher:
    def __init__(self, cache: VerifiedCache) -> None:
        self._cache = cache
        self._waiting: list[_Group] = []
        self._running: set[asyncio.Task[None]] = set()   # the loop keeps only weak refs

    async def verify_many(self, items: Sequence[SignedItem],
                          item_ids: Sequence[bytes | None] | None = None) -> list[bool]:
        """Verdicts for `items` (with `item_ids` as VerifiedCache.verify_many takes
        them), checked together with whatever else is asked for in this turn of the
        event loop."""
        if not items:
            return []
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[bool]] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._flush)
        self._waiting.append((items, item_ids or [None] * len(items), future))
        return await future

    def _flush(self) -> None:
        groups, self._waiting = self._waiting, []
        task = asyncio.get_running_loop().create_task(self._check(groups))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _check(self, groups: list[_Group]) -> None:
        items = [item for group, _, _ in groups for item in group]
        ids = [item_id for _, group_ids, _ in groups for item_id in group_ids]
        try:
            verdicts = await asyncio.to_thread(self._cache.verify_many, items, ids)
        except asyncio.CancelledError:
            for _, _, future in groups:
                future.cancel()
            raise
        except Exception as exc:                       # hand the failure to every caller
            for _, _, future in groups:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for group, _, future in groups:
            if not future.done():                  # a caller that gave up is skipped
                future.set_result(verdicts[start:start + len(group)])
            start += len(group)
