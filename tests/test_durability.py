"""Group commit: concurrent waiters share one synced write, and all learn of a failure."""

import asyncio

from node.daemon.durability import SyncBarrier


def test_waiters_of_one_turn_share_one_sync_and_later_ones_get_another():
    syncs = []

    async def scenario():
        barrier = SyncBarrier(lambda: syncs.append(len(syncs)))
        await asyncio.gather(*(barrier.wait() for _ in range(50)))
        await barrier.wait()

    asyncio.run(scenario())
    assert syncs == [0, 1]


def test_a_failed_sync_reaches_every_waiter_and_the_next_one_retries():
    attempts = []

    def sync():
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError(28, "No space left on device")

    async def scenario():
        barrier = SyncBarrier(sync)
        results = await asyncio.gather(*(barrier.wait() for _ in range(3)),
                                       return_exceptions=True)
        assert all(isinstance(r, OSError) for r in results)
        await barrier.wait()

    asyncio.run(scenario())
    assert len(attempts) == 2

