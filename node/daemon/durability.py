"""Group commit: many submissions, one fsync.

Each submission writes its tx without a sync, then waits on the barrier; the barrier
runs one synced write for every submission that arrived in the same turn of the event
loop. A submission is still durable before it is acknowledged, but a batch of 100
events costs one fsync instead of 100.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class SyncBarrier:
    def __init__(self, sync: Callable[[], None]) -> None:
        self._sync = sync
        self._waiting: asyncio.Future[None] | None = None

    async def wait(self) -> None:
        """Return once everything written before this call is on disk (or raise why not)."""
        if self._waiting is None:
            self._waiting = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(self._flush)
        await asyncio.shield(self._waiting)

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, None
        assert waiting is not None
        try:
            self._sync()
        except Exception as exc:  # every waiter learns the write failed
            waiting.set_exception(exc)
        else:
            waiting.set_result(None)
